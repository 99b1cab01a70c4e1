// What a configMap, secret, downwardAPI or projected volume holds: relative path -> bytes and mode,
// with `items` selecting and renaming keys, per-item modes over defaultMode, optional sources, and
// upstream's error messages (they end up in FailedMount events). Pure.
import type {
  V1ConfigMap,
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1ProjectedVolumeSource,
  V1Secret,
  V1ServiceAccountTokenProjection,
} from '@kubernetes/client-node';
import { fieldRefValue, resourceFieldValue, type NodeAllocatable } from '../pods/env.ts';

export interface FileProjection {
  data: Buffer;
  mode: number;
}
export type Payload = Map<string, FileProjection>;

export class VolumeError extends Error {}

export const DEFAULT_MODE = 0o644;

export interface ObjectLookups {
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
  secret(namespace: string, name: string): V1Secret | undefined;
  /** a bound token for the pod (token-manager.ts), or why there is none */
  serviceAccountToken?(pod: V1Pod, src: V1ServiceAccountTokenProjection): string | Error;
}

function keysToPayload(
  all: Map<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  mode: number,
  missing: (key: string) => VolumeError,
  optional: boolean,
): Payload {
  const out: Payload = new Map();
  if (!items?.length) {
    for (const [k, v] of all) out.set(k, { data: v, mode });
    return out;
  }
  for (const it of items) {
    const v = all.get(it.key);
    if (!v) {
      if (optional) continue;
      throw missing(it.key);
    }
    out.set(it.path, { data: v, mode: it.mode ?? mode });
  }
  return out;
}

export function configMapData(cm: V1ConfigMap): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

export const secretData = (s: V1Secret): Map<string, Buffer> => new Map(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));

export function configMapPayload(ns: string, src: { name?: string; items?: V1KeyToPath[]; optional?: boolean }, l: ObjectLookups, mode: number): Payload {
  const cm = l.configMap(ns, src.name ?? '');
  if (!cm) {
    if (src.optional) return new Map();
    throw new VolumeError(`configmap ${JSON.stringify(src.name)} not found`);
  }
  return keysToPayload(configMapData(cm), src.items, mode, (k) => new VolumeError(`configmap references non-existent config key: ${k}`), !!src.optional);
}

export function secretPayload(
  ns: string,
  src: { secretName?: string; name?: string; items?: V1KeyToPath[]; optional?: boolean },
  l: ObjectLookups,
  mode: number,
): Payload {
  const name = src.secretName ?? src.name ?? '';
  const s = l.secret(ns, name);
  if (!s) {
    if (src.optional) return new Map();
    throw new VolumeError(`secret ${JSON.stringify(name)} not found`);
  }
  return keysToPayload(secretData(s), src.items, mode, (k) => new VolumeError(`references non-existent secret key: ${k}`), !!src.optional);
}

export interface DownwardContext {
  podIPs: string[];
  hostIPs: string[];
  allocatable: NodeAllocatable;
}

export function downwardAPIPayload(pod: V1Pod, items: V1DownwardAPIVolumeFile[] | undefined, mode: number, ctx: DownwardContext): Payload {
  const out: Payload = new Map();
  for (const it of items ?? []) {
    let value: string;
    if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, ctx.podIPs, ctx.hostIPs);
    else if (it.resourceFieldRef) {
      const r = it.resourceFieldRef;
      const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === r.containerName);
      if (!c) throw new VolumeError(`container ${JSON.stringify(r.containerName)} not found in pod for resourceFieldRef ${r.resource}`);
      value = resourceFieldValue(c, r.resource, r.divisor, ctx.allocatable);
    } else continue;
    out.set(it.path, { data: Buffer.from(value, 'utf8'), mode: it.mode ?? mode });
  }
  return out;
}

function tokenPayload(pod: V1Pod, src: V1ServiceAccountTokenProjection, l: ObjectLookups, mode: number): Payload {
  if (!l.serviceAccountToken) throw new VolumeError('serviceAccountToken projections are not supported by this kubelet');
  const t = l.serviceAccountToken(pod, src);
  if (t instanceof Error) throw new VolumeError(t.message);
  return new Map([[src.path, { data: Buffer.from(t, 'utf8'), mode }]]);
}

export function projectedPayload(pod: V1Pod, src: V1ProjectedVolumeSource, l: ObjectLookups, ctx: DownwardContext): Payload {
  const ns = pod.metadata!.namespace!;
  const mode = src.defaultMode ?? DEFAULT_MODE;
  const out: Payload = new Map();
  for (const s of src.sources ?? []) {
    let part: Payload = new Map();
    if (s.configMap) part = configMapPayload(ns, s.configMap, l, mode);
    else if (s.secret) part = secretPayload(ns, s.secret, l, mode);
    else if (s.downwardAPI) part = downwardAPIPayload(pod, s.downwardAPI.items, mode, ctx);
    else if (s.serviceAccountToken) part = tokenPayload(pod, s.serviceAccountToken, l, mode);
    for (const [k, v] of part) {
      if (out.has(k)) throw new VolumeError(`projected volume has conflicting paths: ${k}`);
      out.set(k, v);
    }
  }
  return out;
}

/** A relative path inside a volume: no absolute paths, no '..' segments, no '..'-prefixed names. */
export function checkRelative(path: string): void {
  if (!path || path.startsWith('/') || path.split('/').some((seg) => seg === '..' || seg.startsWith('..'))) {
    throw new VolumeError(`invalid path ${JSON.stringify(path)} in volume`);
  }
}
