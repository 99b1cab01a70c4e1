// Upstream's ServiceAccount admission plugin on pod create: serviceAccountName defaults to
// "default" (serviceAccount mirrors it), the ServiceAccount must exist (the default one is waited
// for briefly, as the controller makes it), and unless the pod or the ServiceAccount says
// automountServiceAccountToken: false, a projected kube-api-access-<5 random> volume (a bound
// token, the cluster CA, the namespace) is mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every container and init container that
// has nothing mounted there. Mirror pods are left alone.
import { randomInt } from 'node:crypto';
import type { ApiError } from '../apiserver/errors.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Attributes } from './attributes.ts';
import { forbiddenFor } from './authorizer.ts';
import { MIRROR_ANNOTATION } from './node.ts';
import { type ObjectLookup, WARN_ONLY_EXPIRATION_SECONDS } from './sa-tokens.ts';

export const DEFAULT_SA = 'default';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** attempts to read the default ServiceAccount (upstream: 10, 100-200 ms apart) */
const DEFAULT_SA_ATTEMPTS = 10;

// upstream's SimpleNameGenerator alphabet (no vowels, no confusable digits)
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
export const randomSuffix = (n = 5) => Array.from({ length: n }, () => ALPHANUMS[randomInt(ALPHANUMS.length)]).join('');

interface Mount {
  name?: string;
  mountPath?: string;
  readOnly?: boolean;
}
interface Container {
  volumeMounts?: Mount[];
}
interface PodLike {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    serviceAccount?: string;
    automountServiceAccountToken?: boolean;
    volumes?: { name?: string }[];
    containers?: Container[];
    initContainers?: Container[];
  };
}

/** The projected volume upstream's plugin adds (tokenVolumeSource + the CA and namespace). */
export function tokenVolume(name: string) {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 0o644,
    },
  };
}

/** Adds the token volume and its mounts (pure; `suffix` names a new volume). */
export function mountServiceAccountToken(spec: NonNullable<PodLike['spec']>, suffix: string): void {
  const existing = (spec.volumes ?? []).find((v) => v.name?.startsWith(TOKEN_VOLUME_PREFIX));
  const name = existing?.name ?? `${TOKEN_VOLUME_PREFIX}${suffix}`;
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...(spec.volumes ?? []), tokenVolume(name)];
}

async function findServiceAccount(lookup: ObjectLookup, ns: string, name: string) {
  const attempts = name === DEFAULT_SA ? DEFAULT_SA_ATTEMPTS : 1;
  for (let i = 0; i < attempts; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100 + randomInt(100)));
    const sa = await lookup('serviceaccounts', ns, name);
    if (sa) return sa as { automountServiceAccountToken?: boolean };
  }
  return undefined;
}

/** Admission of a pod create: mutates `pod` in place, or returns the 403. */
export async function serviceAccountAdmission(a: Attributes, pod: PodLike, lookup: ObjectLookup): Promise<ApiError | undefined> {
  if (a.verb !== 'create' || a.apiGroup !== '' || a.resource !== 'pods' || a.subresource) return undefined;
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return undefined;
  const annotations = pod.metadata?.annotations;
  if (annotations && typeof annotations === 'object' && getOwn(annotations, MIRROR_ANNOTATION) !== undefined) return undefined;
  const name =
    (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) || (typeof spec.serviceAccount === 'string' && spec.serviceAccount) || DEFAULT_SA;
  spec.serviceAccountName = name;
  spec.serviceAccount = name;
  const sa = await findServiceAccount(lookup, a.namespace, name);
  if (!sa)
    return forbiddenFor(
      { ...a, name: pod.metadata?.name ?? a.name },
      `error looking up service account ${a.namespace}/${name}: serviceaccount "${name}" not found`,
    );
  const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
  if (automount) mountServiceAccountToken(spec, randomSuffix());
  return undefined;
}
