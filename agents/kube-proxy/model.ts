// The proxy's own view of Services and EndpointSlices, reduced to what the rules need. Pure
// conversions from the API objects, following kube-proxy's semantics: headless and ExternalName
// Services are skipped, only IPv4 addresses are used (this proxy is single-stack), an endpoint is
// ready/serving/terminating per its conditions (ready and serving default to true).
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  /** ServicePortName.String() as upstream: "ns/name" or "ns/name:port" */
  name: string;
  /** "ns/name": the unit of change tracking */
  service: string;
  portName: string;
  protocol: Protocol;
  clusterIP: string;
  port: number;
  /** 0 when the port has no NodePort */
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  /** seconds of ClientIP affinity; 0 when sessionAffinity is None */
  affinitySeconds: number;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  /** 0 unless a LoadBalancer Service with externalTrafficPolicy Local */
  healthCheckNodePort: number;
}

export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** on this node */
  local: boolean;
}

export const endpointString = (e: { ip: string; port: number }): string => `${e.ip}:${e.port}`;

const isIPv4 = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);
const isIPv4CIDR = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(s);

export const DEFAULT_AFFINITY_SECONDS = 10800;

function protocolOf(p: string | undefined): Protocol {
  return p === 'UDP' || p === 'SCTP' ? p : 'TCP';
}

/** The IPv4 cluster IP of a Service, or '' when it is not proxied (headless, ExternalName, v6-only). */
export function clusterIPv4(svc: V1Service): string {
  if (svc.spec?.type === 'ExternalName') return '';
  const ips = svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? ''];
  return ips.find((ip) => ip !== 'None' && isIPv4(ip)) ?? '';
}

/** One ServicePort per spec.ports entry; [] for Services the proxy does not handle. */
export function servicePorts(svc: V1Service): ServicePort[] {
  const clusterIP = clusterIPv4(svc);
  if (!clusterIP) return [];
  const spec = svc.spec!;
  const ns = svc.metadata?.namespace ?? 'default';
  const service = `${ns}/${svc.metadata?.name ?? ''}`;
  const type = spec.type ?? 'ClusterIP';
  const externalIPs = (spec.externalIPs ?? []).filter(isIPv4);
  const loadBalancerIPs =
    type === 'LoadBalancer'
      ? (svc.status?.loadBalancer?.ingress ?? []).filter((i) => i.ip && isIPv4(i.ip) && (i.ipMode ?? 'VIP') === 'VIP').map((i) => i.ip!)
      : [];
  const externallyAccessible = type === 'NodePort' || type === 'LoadBalancer' || externalIPs.length > 0;
  const externalPolicyLocal = externallyAccessible && spec.externalTrafficPolicy === 'Local';
  const affinitySeconds = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
  const healthCheckNodePort = type === 'LoadBalancer' && externalPolicyLocal ? (spec.healthCheckNodePort ?? 0) : 0;
  return (spec.ports ?? []).map((p) => ({
    name: p.name ? `${service}:${p.name}` : service,
    service,
    portName: p.name ?? '',
    protocol: protocolOf(p.protocol),
    clusterIP,
    port: p.port,
    nodePort: type === 'NodePort' || type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
    externalIPs,
    loadBalancerIPs,
    loadBalancerSourceRanges: (spec.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(isIPv4CIDR),
    affinitySeconds,
    externalPolicyLocal,
    internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
    healthCheckNodePort,
  }));
}

/** Key that joins a Service port to the EndpointSlice port serving it. */
export const portKey = (portName: string, protocol: string): string => `${portName}/${protocol}`;

/** The Service ("ns/name") an EndpointSlice belongs to, or '' when it has no owner label. */
export function sliceService(slice: V1EndpointSlice): string {
  const name = slice.metadata?.labels?.['kubernetes.io/service-name'];
  return name ? `${slice.metadata?.namespace ?? 'default'}/${name}` : '';
}

/**
 * Endpoints by port key from all slices of one Service. The EndpointSlice controller has already
 * resolved named targetPorts to numbers, per endpoint group. Duplicates across slices (during
 * controller churn) are merged, a ready copy winning.
 */
export function sliceEndpoints(slices: Iterable<V1EndpointSlice>, nodeName: string): Map<string, Endpoint[]> {
  const byPort = new Map<string, Map<string, Endpoint>>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    for (const p of slice.ports ?? []) {
      if (!p.port) continue;
      const key = portKey(p.name ?? '', protocolOf(p.protocol));
      let eps = byPort.get(key);
      if (!eps) byPort.set(key, (eps = new Map()));
      for (const e of slice.endpoints ?? []) {
        const ip = e.addresses?.[0];
        if (!ip || !isIPv4(ip)) continue;
        const ready = e.conditions?.ready ?? true;
        const ep: Endpoint = {
          ip,
          port: p.port,
          ready,
          serving: e.conditions?.serving ?? ready,
          terminating: e.conditions?.terminating ?? false,
          local: !!nodeName && e.nodeName === nodeName,
        };
        const k = endpointString(ep);
        const seen = eps.get(k);
        if (!seen || (!seen.ready && ep.ready)) eps.set(k, ep);
      }
    }
  }
  const out = new Map<string, Endpoint[]>();
  for (const [k, eps] of byPort) out.set(k, [...eps.values()].sort(compareEndpoints));
  return out;
}

/** Numeric IP then port order, so that rules are stable and read naturally. */
export function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const pa = a.ip.split('.').map(Number);
  const pb = b.ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return a.port - b.port;
}
