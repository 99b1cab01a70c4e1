// A container's environment as the kubelet builds it: service links first, then envFrom sources in
// order, then env entries (value with $(VAR) expansion, configMapKeyRef, secretKeyRef, fieldRef,
// resourceFieldRef), later names replacing earlier ones. A missing non-optional source is the
// CreateContainerConfigError users see, with upstream's message. Pure: objects come from lookups.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { bytes, milliCPU, parseQuantity } from '../../api/quantity.ts';

export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
}

export interface NodeAllocatable {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

export interface EnvLookups {
  /** data of a ConfigMap, undefined when it does not exist */
  configMap(namespace: string, name: string): Record<string, string> | undefined;
  /** decoded data of a Secret, undefined when it does not exist */
  secret(namespace: string, name: string): Record<string, string> | undefined;
  /** service link variables for the pod's namespace (empty when enableServiceLinks is false) */
  serviceEnv: Record<string, string>;
  podIPs: string[];
  hostIPs: string[];
  allocatable: NodeAllocatable;
}

export interface EnvResult {
  env: { key: string; value: string }[];
  invalidNames: string[];
}

/** Expands $(VAR) from `lookup`; $$ escapes a dollar; unknown references stay as written. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const v = name ? lookup(name) : undefined;
      out += v ?? `$(${name})`;
      i = close;
      continue;
    }
    out += ch;
  }
  return out;
}

/** envFrom keys: printable ASCII without '=' (upstream's relaxed validation). */
export const validEnvName = (k: string): boolean => k.length > 0 && /^[\x20-\x7e]+$/.test(k) && !k.includes('=');

const labelKey = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The value of a downward API fieldRef path for env vars (and downwardAPI volume items). */
export function fieldRefValue(pod: V1Pod, path: string, podIPs: string[], hostIPs: string[]): string {
  const m = pod.metadata ?? {};
  const sub = labelKey.exec(path);
  if (sub) return (sub[1] === 'labels' ? m.labels : m.annotations)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return m.name ?? '';
    case 'metadata.namespace':
      return m.namespace ?? '';
    case 'metadata.uid':
      return m.uid ?? '';
    case 'metadata.labels':
      return formatMap(m.labels);
    case 'metadata.annotations':
      return formatMap(m.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
      return podIPs[0] ?? '';
    case 'status.podIPs':
      return podIPs.join(',');
    case 'status.hostIP':
      return hostIPs[0] ?? '';
    case 'status.hostIPs':
      return hostIPs.join(',');
    default:
      throw new ConfigError(`unsupported fieldRef ${JSON.stringify(path)}`);
  }
}

/** key="value" lines, sorted by key, values quoted with Go's %q escaping of the common cases. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** limits.cpu, requests.memory ... divided by the divisor and rounded up; unset limits are the node's allocatable. */
export function resourceFieldValue(c: V1Container, resource: string, divisor: unknown, alloc: NodeAllocatable): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const raw = c.resources?.[kind]?.[name];
  if (name === 'cpu') {
    const milli = milliCPU(raw) ?? (kind === 'limits' ? alloc.cpuMillis : 0);
    const d = milliCPU(divisor ?? '1') || 1000;
    return String(Math.ceil(milli / d));
  }
  if (name === 'memory' || name === 'ephemeral-storage') {
    const fallback = name === 'memory' ? alloc.memoryBytes : alloc.ephemeralStorageBytes;
    const v = bytes(raw) ?? (kind === 'limits' ? fallback : 0);
    const d = parseQuantity(divisor ?? '1') || 1;
    return String(Math.ceil(v / d));
  }
  throw new ConfigError(`unsupported container resource: ${resource}`);
}

const secretNotFound = (name: string) => new ConfigError(`secret "${name}" not found`);
const configMapNotFound = (name: string) => new ConfigError(`configmap "${name}" not found`);

function valueFrom(pod: V1Pod, c: V1Container, e: V1EnvVar, l: EnvLookups): string | undefined {
  const ns = pod.metadata!.namespace!;
  const vf = e.valueFrom!;
  // one key of a ConfigMap or Secret: a missing object or key is an error unless optional
  const keyRef = (r: { name?: string; key: string; optional?: boolean }, kind: 'ConfigMap' | 'Secret') => {
    const data = kind === 'ConfigMap' ? l.configMap(ns, r.name!) : l.secret(ns, r.name!);
    if (!data) {
      if (r.optional) return undefined;
      throw kind === 'ConfigMap' ? configMapNotFound(r.name!) : secretNotFound(r.name!);
    }
    if (!(r.key in data)) {
      if (r.optional) return undefined;
      throw new ConfigError(`couldn't find key ${r.key} in ${kind} ${ns}/${r.name}`);
    }
    return data[r.key];
  };
  if (vf.configMapKeyRef) return keyRef(vf.configMapKeyRef, 'ConfigMap');
  if (vf.secretKeyRef) return keyRef(vf.secretKeyRef, 'Secret');
  if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef.fieldPath, l.podIPs, l.hostIPs);
  if (vf.resourceFieldRef) {
    const r = vf.resourceFieldRef;
    const target = r.containerName ? [...(pod.spec?.initContainers ?? []), ...pod.spec!.containers].find((x) => x.name === r.containerName) : c;
    if (!target) throw new ConfigError(`container ${r.containerName} not found in pod ${pod.metadata?.name}`);
    return resourceFieldValue(target, r.resource, r.divisor, l.allocatable);
  }
  return undefined;
}

/** The container's final environment, or a ConfigError naming the missing object or key. */
export function containerEnv(pod: V1Pod, c: V1Container, l: EnvLookups): EnvResult {
  const ns = pod.metadata!.namespace!;
  const vars = new Map<string, string>();
  const invalidNames: string[] = [];
  for (const src of c.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    let data: Record<string, string> | undefined;
    if (src.configMapRef) {
      data = l.configMap(ns, src.configMapRef.name!);
      if (!data && !src.configMapRef.optional) throw configMapNotFound(src.configMapRef.name!);
    } else if (src.secretRef) {
      data = l.secret(ns, src.secretRef.name!);
      if (!data && !src.secretRef.optional) throw secretNotFound(src.secretRef.name!);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = prefix + k;
      if (!validEnvName(name)) {
        invalidNames.push(name);
        continue;
      }
      vars.set(name, v);
    }
  }
  const lookup = (name: string) => vars.get(name) ?? l.serviceEnv[name];
  for (const e of c.env ?? []) {
    if (e.valueFrom) {
      const v = valueFrom(pod, c, e, l);
      if (v !== undefined) vars.set(e.name, v);
    } else {
      vars.set(e.name, expand(e.value ?? '', lookup));
    }
  }
  const env = [...vars].map(([key, value]) => ({ key, value }));
  for (const [key, value] of Object.entries(l.serviceEnv)) if (!vars.has(key)) env.push({ key, value });
  return { env, invalidNames };
}

/** command and args with $(VAR) references to the final environment expanded. */
export function expandCommand(c: V1Container, env: { key: string; value: string }[]): { command: string[]; args: string[] } {
  const m = new Map(env.map((e) => [e.key, e.value]));
  const f = (s: string) => expand(s, (n) => m.get(n));
  return { command: (c.command ?? []).map(f), args: (c.args ?? []).map(f) };
}
