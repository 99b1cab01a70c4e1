// What a Service's backends look like (pure): which pods it selects, each pod's ports with named
// targetPorts resolved against that pod's containers, the Endpoints subsets (ready and not-ready
// addresses, terminating pods left out) and the EndpointSlice endpoints (ready, serving and
// terminating conditions, one address family per slice).
import type { Obj } from '../../apiserver/strategies/types.ts';
import { canon } from '../../apiserver/validation/pod.ts';
import { type Any, isReady, isTerminal } from '../workloads/meta.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const ENDPOINTS_MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINTS_MANAGED_BY = 'endpoint-controller';

/** Services this controller manages: those with a selector (the others' endpoints are the user's). */
export const hasSelector = (svc: Obj) => Object.keys(svc.spec?.selector ?? {}).length > 0;

export function selects(svc: Obj, pod: Obj): boolean {
  if (!hasSelector(svc) || svc.metadata.namespace !== pod.metadata.namespace) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(svc.spec.selector as Record<string, string>).every(([k, v]) => labels[k] === v);
}

export const isHeadless = (svc: Obj) => svc.spec?.clusterIP === 'None';

export function podIPs(pod: Obj): string[] {
  const list: string[] = (pod.status?.podIPs ?? []).map((x: Any) => x.ip).filter(Boolean);
  if (!list.length && pod.status?.podIP) list.push(pod.status.podIP);
  return list;
}

export const familyOf = (ip: string): 'IPv4' | 'IPv6' => (ip.includes(':') ? 'IPv6' : 'IPv4');

/** The pod port a Service port reaches: a number as is, a name looked up in the pod's containers. */
export function resolvePort(svcPort: Any, pod: Obj): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  const protocol = svcPort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

export interface PortOut {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** The pod's ports for this Service, in Service port order; unresolvable named ports are left out. */
export function podPorts(svc: Obj, pod: Obj): PortOut[] {
  const out: PortOut[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = resolvePort(sp, pod);
    if (port === undefined) continue;
    const p: PortOut = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return out;
}

const targetRef = (pod: Obj) => ({ kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid });

/** The DNS hostname a pod gets under a Service: only when the pod names it as its subdomain. */
function hostnameFor(svc: Obj, pod: Obj): string | undefined {
  return pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name ? pod.spec.hostname : undefined;
}

/** Pods a Service's endpoints are built from: selected, with an IP, not finished. */
export function backends(svc: Obj, pods: Obj[]): Obj[] {
  return pods.filter((p) => selects(svc, p) && podIPs(p).length > 0 && !isTerminal(p));
}

/** core/v1 Endpoints subsets: addresses grouped by identical port lists, terminating pods excluded. */
export function endpointSubsets(svc: Obj, pods: Obj[]): Any[] {
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, { ports: PortOut[]; ready: Any[]; notReady: Any[] }>();
  for (const pod of backends(svc, pods)) {
    if (pod.metadata.deletionTimestamp && !publish) continue;
    const ports = podPorts(svc, pod);
    if ((svc.spec?.ports ?? []).length && !ports.length) continue;
    const key = JSON.stringify(ports);
    const g = groups.get(key) ?? { ports, ready: [], notReady: [] };
    const addr: Any = { ip: podIPs(pod)[0], ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}), targetRef: targetRef(pod) };
    const host = hostnameFor(svc, pod);
    if (host) addr.hostname = host;
    (publish || isReady(pod) ? g.ready : g.notReady).push(addr);
    groups.set(key, g);
  }
  const byIP = (a: Any, b: Any) => a.ip.localeCompare(b.ip, 'en', { numeric: true });
  return [...groups.values()]
    .sort((a, b) => JSON.stringify(a.ports).localeCompare(JSON.stringify(b.ports)))
    .map((g) => {
      const s: Any = {};
      if (g.ready.length) s.addresses = g.ready.sort(byIP);
      if (g.notReady.length) s.notReadyAddresses = g.notReady.sort(byIP);
      if (g.ports.length) s.ports = g.ports;
      return s;
    });
}

export interface DesiredSlice {
  addressType: 'IPv4' | 'IPv6';
  ports: PortOut[];
  endpoints: Any[];
}

/** Slice contents: per address family and port list, at most `max` endpoints each. */
export function desiredSlices(svc: Obj, pods: Obj[], zoneOf: (node: string) => string | undefined, max = 100): DesiredSlice[] {
  const families: ('IPv4' | 'IPv6')[] = svc.spec?.ipFamilies?.length ? svc.spec.ipFamilies : ['IPv4'];
  const publish = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, DesiredSlice>();
  for (const pod of backends(svc, pods)) {
    const ports = podPorts(svc, pod);
    if ((svc.spec?.ports ?? []).length && !ports.length) continue;
    const serving = isReady(pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    for (const fam of families) {
      const ip = podIPs(pod).find((x) => familyOf(x) === fam);
      if (!ip) continue;
      const ep: Any = {
        addresses: [ip],
        conditions: { ready: publish || (serving && !terminating), serving: publish || serving, terminating },
        targetRef: targetRef(pod),
      };
      const host = hostnameFor(svc, pod);
      if (host) ep.hostname = host;
      if (pod.spec?.nodeName) {
        ep.nodeName = pod.spec.nodeName;
        const zone = zoneOf(pod.spec.nodeName);
        if (zone) ep.zone = zone;
      }
      const key = `${fam}|${JSON.stringify(ports)}`;
      const g = groups.get(key) ?? { addressType: fam, ports, endpoints: [] };
      g.endpoints.push(ep);
      groups.set(key, g);
    }
  }
  const out: DesiredSlice[] = [];
  for (const g of [...groups.values()].sort((a, b) =>
    `${a.addressType}${JSON.stringify(a.ports)}`.localeCompare(`${b.addressType}${JSON.stringify(b.ports)}`),
  )) {
    g.endpoints.sort((a, b) => a.addresses[0].localeCompare(b.addresses[0], 'en', { numeric: true }));
    for (let i = 0; i < g.endpoints.length; i += max) out.push({ ...g, endpoints: g.endpoints.slice(i, i + max) });
  }
  // a selector with no backends still publishes an empty slice, so consumers see "no endpoints"
  if (!out.length) out.push({ addressType: families[0], ports: [], endpoints: [] });
  return out;
}

export interface SlicePlan {
  create: DesiredSlice[];
  update: { slice: Obj; want: DesiredSlice }[];
  remove: Obj[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
export const sameContent = (s: Obj, d: DesiredSlice) => s.addressType === d.addressType && same(s.ports ?? [], d.ports) && same(s.endpoints ?? [], d.endpoints);

/** Reuse existing slices (same family and ports first) before making new ones; drop the rest. */
export function planSlices(existing: Obj[], desired: DesiredSlice[]): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], remove: [] };
  const pool = [...existing].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const left: DesiredSlice[] = [];
  for (const d of desired) {
    const i = pool.findIndex((s) => sameContent(s, d));
    if (i >= 0) pool.splice(i, 1);
    else left.push(d);
  }
  for (const d of left) {
    const i = pool.findIndex((s) => s.addressType === d.addressType);
    if (i >= 0) plan.update.push({ slice: pool.splice(i, 1)[0], want: d });
    else plan.create.push(d);
  }
  plan.remove = pool;
  return plan;
}
