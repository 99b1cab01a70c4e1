// securityContext to CRI: the pod's settings merged under the container's, runAsNonRoot checked
// against the user the container will really run as (its runAsUser, else the image's user), and
// the sandbox's own context. Pure.
import type { V1Container, V1Pod, V1SeccompProfile } from '@kubernetes/client-node';
import { ConfigError } from './env.ts';

export const NS_POD = 0;
export const NS_CONTAINER = 1;
export const NS_NODE = 2;
/** another container's namespace (CRI NamespaceMode TARGET): an ephemeral container's targetContainerName */
export const NS_TARGET = 3;

/** upstream's format.Pod: name_namespace(uid) */
export const podRef = (pod: V1Pod): string => `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;

export interface ImageUser { uid?: number; username?: string }

export function namespaceOptions(pod: V1Pod) {
  const s = pod.spec!;
  return {
    network: s.hostNetwork ? NS_NODE : NS_POD,
    pid: s.hostPID ? NS_NODE : s.shareProcessNamespace ? NS_POD : NS_CONTAINER,
    ipc: s.hostIPC ? NS_NODE : NS_POD,
  };
}

function seccomp(p: V1SeccompProfile | undefined): { profileType: number; localhostRef?: string } | undefined {
  if (!p) return undefined;
  if (p.type === 'RuntimeDefault') return { profileType: 0 };
  if (p.type === 'Unconfined') return { profileType: 1 };
  if (p.type === 'Localhost') return { profileType: 2, localhostRef: p.localhostProfile ?? '' };
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
    throw new ConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: ${ref}, container: ${c.name})`);
  }
}

const groups = (pod: V1Pod): number[] => {
  const p = pod.spec?.securityContext ?? {};
  const out = [...(p.supplementalGroups ?? [])];
  if (p.fsGroup !== undefined && !out.includes(p.fsGroup)) out.push(p.fsGroup);
  return out;
};

/** targetId: the running container whose process namespace an ephemeral container joins. */
export function containerSecurityContext(pod: V1Pod, c: V1Container, image: ImageUser, targetId?: string) {
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

export function sandboxSecurityContext(pod: V1Pod) {
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
