// securityContext to CRI: the pod's settings merged under the container's, runAsNonRoot checked
// against the user the container will really run as (its runAsUser, else the image's user), and
// the sandbox's own context. Pure.
import type { V1Container, V1Pod, V1SeccompProfile } from '@kubernetes/client-node';
import {
  NamespaceMode,
  SecurityProfile_ProfileType as ProfileType,
  type LinuxContainerSecurityContext,
  type LinuxSandboxSecurityContext,
  type NamespaceOption,
  type SecurityProfile,
} from '../cri/api-types.ts';
import { ConfigError } from './env.ts';

// CRI enums go out by name, as the loader (enums: String) gives them back
export const NS_POD = NamespaceMode.POD;
export const NS_CONTAINER = NamespaceMode.CONTAINER;
export const NS_NODE = NamespaceMode.NODE;
/** another container's namespace (CRI NamespaceMode TARGET): an ephemeral container's targetContainerName */
export const NS_TARGET = NamespaceMode.TARGET;

/** upstream's format.Pod: name_namespace(uid) */
export const podRef = (pod: V1Pod): string => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

export interface ImageUser {
  uid?: number;
  username?: string;
}

export function namespaceOptions(pod: V1Pod): NamespaceOption {
  const s = pod.spec!;
  return {
    network: s.hostNetwork ? NS_NODE : NS_POD,
    pid: s.hostPID ? NS_NODE : s.shareProcessNamespace ? NS_POD : NS_CONTAINER,
    ipc: s.hostIPC ? NS_NODE : NS_POD,
  };
}

function seccomp(p: V1SeccompProfile | undefined): SecurityProfile | undefined {
  if (!p) return undefined;
  if (p.type === 'RuntimeDefault') return { profileType: ProfileType.RuntimeDefault };
  if (p.type === 'Unconfined') return { profileType: ProfileType.Unconfined };
  if (p.type === 'Localhost') return { profileType: ProfileType.Localhost, localhostRef: p.localhostProfile ?? '' };
  return undefined;
}

/** runAsUser, runAsGroup, runAsNonRoot and seccomp as they apply to the container. */
export function effective(pod: V1Pod, c: V1Container) {
  const p = pod.spec?.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    seccomp: s.seccompProfile ?? p.seccompProfile,
  };
}

/** The CreateContainerConfigError a runAsNonRoot container gets when it would run as root. */
export function verifyRunAsNonRoot(pod: V1Pod, c: V1Container, image: ImageUser): void {
  const e = effective(pod, c);
  if (!e.runAsNonRoot) return;
  const ref = JSON.stringify(podRef(pod));
  if (e.runAsUser !== undefined) {
    if (e.runAsUser === 0) throw new ConfigError(`container's runAsUser breaks non-root policy (pod: ${ref}, container: ${c.name})`);
    return;
  }
  const uid = image.uid ?? (image.username ? undefined : 0);
  if (uid === 0) throw new ConfigError(`container has runAsNonRoot and image will run as root (pod: ${ref}, container: ${c.name})`);
  if (uid === undefined && image.username) {
    throw new ConfigError(
      `container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: ${ref}, container: ${c.name})`,
    );
  }
}

const groups = (pod: V1Pod): number[] => {
  const p = pod.spec?.securityContext ?? {};
  const out = [...(p.supplementalGroups ?? [])];
  if (p.fsGroup !== undefined && !out.includes(p.fsGroup)) out.push(p.fsGroup);
  return out;
};

/** targetId: the running container whose process namespace an ephemeral container joins. */
export function containerSecurityContext(pod: V1Pod, c: V1Container, image: ImageUser, targetId?: string): LinuxContainerSecurityContext {
  const s = c.securityContext ?? {};
  const e = effective(pod, c);
  const uid = e.runAsUser ?? image.uid;
  const privileged = s.privileged ?? false;
  return {
    privileged,
    namespaceOptions: targetId ? { ...namespaceOptions(pod), pid: NS_TARGET, targetId } : namespaceOptions(pod),
    capabilities: s.capabilities ? { addCapabilities: s.capabilities.add ?? [], dropCapabilities: s.capabilities.drop ?? [] } : undefined,
    ...(uid !== undefined ? { runAsUser: { value: uid } } : image.username ? { runAsUsername: image.username } : {}),
    ...(e.runAsGroup !== undefined ? { runAsGroup: { value: e.runAsGroup } } : {}),
    readonlyRootfs: s.readOnlyRootFilesystem ?? false,
    supplementalGroups: groups(pod),
    // allowPrivilegeEscalation: false sets no_new_privs; unset leaves it off, as upstream does
    noNewPrivs: s.allowPrivilegeEscalation === false,
    ...(seccomp(e.seccomp) ? { seccomp: seccomp(e.seccomp) } : {}),
  };
}

export function sandboxSecurityContext(pod: V1Pod): LinuxSandboxSecurityContext {
  const p = pod.spec?.securityContext ?? {};
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return {
    namespaceOptions: namespaceOptions(pod),
    ...(p.runAsUser !== undefined ? { runAsUser: { value: p.runAsUser } } : {}),
    ...(p.runAsGroup !== undefined ? { runAsGroup: { value: p.runAsGroup } } : {}),
    supplementalGroups: groups(pod),
    privileged: all.some((c) => c.securityContext?.privileged),
    ...(seccomp(p.seccompProfile) ? { seccomp: seccomp(p.seccompProfile) } : {}),
  };
}
