// The ready endpoints of a headless Service, as DNS sees them. EndpointSlices are the source of
// truth (ready unless conditions.ready is false, or all of them when publishNotReadyAddresses).
// While no EndpointSlice exists for a selector Service (no endpoint controller has written one
// yet), the selected ready Pods stand in, resolved the way the endpoint controller would do it.
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { familyOf } from './names.ts';

export interface DnsPort {
  name: string;
  port: number;
  protocol: string;
}
export interface DnsEndpoint {
  ip: string;
  hostname?: string;
  ports: DnsPort[];
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const namedPorts = (ports: { name?: string; port?: number; protocol?: string }[] | undefined): DnsPort[] =>
  (ports ?? []).filter((p) => p.name && p.port).map((p) => ({ name: p.name!, port: p.port!, protocol: p.protocol ?? 'TCP' }));

export function podIPs(pod: V1Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter(Boolean);
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

export const podReady = (pod: V1Pod): boolean => (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Pods the Service's selector picks in its namespace (none for a Service without a selector). */
export function selectedPods(svc: V1Service, pods: V1Pod[]): V1Pod[] {
  const sel = svc.spec?.selector;
  if (!sel || !Object.keys(sel).length) return [];
  const ns = svc.metadata?.namespace;
  return pods.filter((p) => {
    if (p.metadata?.namespace !== ns || p.metadata?.deletionTimestamp) return false;
    const labels = p.metadata?.labels ?? {};
    return Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
}

/** Whether a pod counts as an endpoint for DNS: ready, or any pod with an IP when the Service publishes not-ready addresses. */
const counts = (svc: V1Service, pod: V1Pod): boolean =>
  (svc.spec?.publishNotReadyAddresses === true || podReady(pod)) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

/** A Service port's target on one pod: a numeric targetPort, or the container port of that name. */
function targetOn(pod: V1Pod, sp: V1ServicePort): number | undefined {
  const t = sp.targetPort as number | string | undefined;
  if (t === undefined || t === '' || t === 0) return sp.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  for (const c of pod.spec?.containers ?? []) {
    const hit = (c.ports ?? []).find((p) => p.name === t && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'));
    if (hit) return hit.containerPort;
  }
  return undefined;
}

/** The `hostname` the endpoint controller gives a pod: its spec.hostname when its subdomain names this Service. */
export function podHostname(svc: V1Service, pod: V1Pod): string | undefined {
  return pod.spec?.hostname && pod.spec.subdomain === svc.metadata?.name ? pod.spec.hostname : undefined;
}

function fromPods(svc: V1Service, pods: V1Pod[]): DnsEndpoint[] {
  const out: DnsEndpoint[] = [];
  for (const pod of selectedPods(svc, pods)) {
    if (!counts(svc, pod)) continue;
    const ports = (svc.spec?.ports ?? []).flatMap((sp) => {
      const port = sp.name ? targetOn(pod, sp) : undefined;
      return port ? [{ name: sp.name!, port, protocol: sp.protocol ?? 'TCP' }] : [];
    });
    for (const ip of podIPs(pod)) out.push({ ip, hostname: podHostname(svc, pod), ports });
  }
  return out;
}

function fromSlices(svc: V1Service, slices: V1EndpointSlice[]): DnsEndpoint[] {
  const all = svc.spec?.publishNotReadyAddresses === true;
  const byKey = new Map<string, DnsEndpoint>();
  for (const s of slices) {
    if (s.addressType !== 'IPv4' && s.addressType !== 'IPv6') continue;
    const ports = namedPorts(s.ports);
    for (const e of s.endpoints ?? []) {
      if (!all && e.conditions?.ready === false) continue;
      // the addresses of one endpoint are fungible: the first one stands for it
      const ip = e.addresses?.[0];
      if (!ip || !familyOf(ip)) continue;
      const key = `${ip}|${e.hostname ?? ''}`;
      const have = byKey.get(key);
      if (!have) {
        byKey.set(key, { ip, hostname: e.hostname || undefined, ports: [...ports] });
        continue;
      }
      for (const p of ports) {
        if (!have.ports.some((q) => q.name === p.name && q.protocol === p.protocol)) have.ports.push(p);
      }
    }
  }
  return [...byKey.values()];
}

/** The ready endpoints of a headless Service from its EndpointSlices (or its pods while it has none). */
export function headlessEndpoints(svc: V1Service, slices: V1EndpointSlice[], pods: V1Pod[]): DnsEndpoint[] {
  return slices.length ? fromSlices(svc, slices) : fromPods(svc, pods);
}

/** Pods whose spec.hostname + spec.subdomain name this headless Service: `<hostname>.<svc>.<ns>.svc.<zone>`. */
export function subdomainPods(svc: V1Service, pods: V1Pod[]): { hostname: string; ips: string[] }[] {
  return selectedPods(svc, pods)
    .filter((p) => counts(svc, p) && podHostname(svc, p))
    .map((p) => ({ hostname: podHostname(svc, p)!, ips: podIPs(p) }))
    .filter((x) => x.ips.length);
}

/** What DNS reads of a pod: updates that leave it alone (most status writes) need no rebuild. */
export function podDnsFingerprint(pod: V1Pod): string {
  return JSON.stringify([
    pod.metadata?.namespace,
    pod.metadata?.labels ?? {},
    !!pod.metadata?.deletionTimestamp,
    pod.spec?.hostname,
    pod.spec?.subdomain,
    podIPs(pod),
    podReady(pod),
    pod.status?.phase,
    (pod.spec?.containers ?? []).map((c) => (c.ports ?? []).map((p) => [p.name, p.containerPort, p.protocol])),
  ]);
}
