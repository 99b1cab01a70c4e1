// IPVS mode as data: the virtual servers and their real servers, the addresses bound to the
// kube-ipvs0 dummy interface (so the node accepts packets for them), and the ipset entries that the
// mode's few iptables rules match on. Pure; the syncer diffs two of these and applies the difference.
// Set names, types and roles are upstream's.
import { cidrContains } from '../../api/ip.ts';
import { planPort } from '../policy.ts';
import type { Endpoint } from '../model.ts';
import type { PortWithEndpoints } from '../tracker.ts';

export const SCHEDULERS = ['rr', 'lc', 'dh', 'sh', 'sed', 'nq'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
export const DUMMY = 'kube-ipvs0';

export interface IpsetInfo {
  name: string;
  type: string;
  comment: string;
}

export const IPSETS: IpsetInfo[] = [
  { name: 'KUBE-LOOP-BACK', type: 'hash:ip,port,ip', comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose' },
  { name: 'KUBE-CLUSTER-IP', type: 'hash:ip,port', comment: 'Kubernetes service cluster ip + port for masquerade purpose' },
  { name: 'KUBE-EXTERNAL-IP', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port for masquerade and filter purpose' },
  { name: 'KUBE-EXTERNAL-IP-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local' },
  { name: 'KUBE-LOAD-BALANCER', type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  { name: 'KUBE-LOAD-BALANCER-LOCAL', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local' },
  { name: 'KUBE-LOAD-BALANCER-FW', type: 'hash:ip,port', comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange' },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-IP',
    type: 'hash:ip,port,ip',
    comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  },
  {
    name: 'KUBE-LOAD-BALANCER-SOURCE-CIDR',
    type: 'hash:ip,port,net',
    comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  },
  { name: 'KUBE-NODE-PORT-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port for masquerade purpose' },
  { name: 'KUBE-NODE-PORT-LOCAL-TCP', type: 'bitmap:port', comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local' },
  { name: 'KUBE-NODE-PORT-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port for masquerade purpose' },
  { name: 'KUBE-NODE-PORT-LOCAL-UDP', type: 'bitmap:port', comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local' },
  { name: 'KUBE-NODE-PORT-SCTP-HASH', type: 'hash:ip,port', comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'" },
  {
    name: 'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  },
  { name: 'KUBE-HEALTH-CHECK-NODE-PORT', type: 'bitmap:port', comment: 'Kubernetes health check node port' },
];

export interface RealServer {
  ip: string;
  port: number;
  weight: number;
}

export interface VirtualServer {
  protocol: 'tcp' | 'udp' | 'sctp';
  ip: string;
  port: number;
  scheduler: Scheduler;
  /** ClientIP affinity: persistence timeout in seconds */
  persistent: number;
  reals: RealServer[];
}

export const vsKey = (v: { protocol: string; ip: string; port: number }): string => `${v.protocol}:${v.ip}:${v.port}`;

export interface IpvsState {
  addresses: Set<string>;
  services: Map<string, VirtualServer>;
  /** set name -> entries */
  ipsets: Map<string, Set<string>>;
}

export interface IpvsContext {
  nodeIPs: string[];
  scheduler: Scheduler;
}

export function renderIpvs(ports: PortWithEndpoints[], ctx: IpvsContext): IpvsState {
  const st: IpvsState = { addresses: new Set(), services: new Map(), ipsets: new Map(IPSETS.map((s) => [s.name, new Set<string>()])) };
  const entry = (set: string, e: string) => st.ipsets.get(set)!.add(e);
  for (const { svc, endpoints } of ports) {
    const plan = planPort(svc, endpoints);
    const p = svc.protocol.toLowerCase() as VirtualServer['protocol'];
    const reals = (eps: Endpoint[]) => eps.map((e) => ({ ip: e.ip, port: e.port, weight: 1 }));
    const internal = reals(plan.internalLocal ? plan.local : plan.cluster);
    const external = reals(plan.externalLocal ? plan.local : plan.cluster);
    const vs = (ip: string, port: number, rs: RealServer[], bind: boolean) => {
      const v: VirtualServer = { protocol: p, ip, port, scheduler: ctx.scheduler, persistent: svc.affinitySeconds, reals: rs };
      st.services.set(vsKey(v), v);
      if (bind) st.addresses.add(ip);
    };
    const ipPort = (ip: string, port = svc.port) => `${ip},${p}:${port}`;

    for (const e of endpoints) if (e.local) entry('KUBE-LOOP-BACK', `${e.ip},${p}:${e.port},${e.ip}`);
    entry('KUBE-CLUSTER-IP', ipPort(svc.clusterIP));
    vs(svc.clusterIP, svc.port, internal, true);
    for (const ip of svc.externalIPs) {
      entry(plan.externalLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', ipPort(ip));
      vs(ip, svc.port, external, true);
    }
    for (const ip of svc.loadBalancerIPs) {
      entry('KUBE-LOAD-BALANCER', ipPort(ip));
      if (plan.externalLocal) entry('KUBE-LOAD-BALANCER-LOCAL', ipPort(ip));
      if (svc.loadBalancerSourceRanges.length) {
        entry('KUBE-LOAD-BALANCER-FW', ipPort(ip));
        for (const cidr of svc.loadBalancerSourceRanges) entry('KUBE-LOAD-BALANCER-SOURCE-CIDR', `${ipPort(ip)},${cidr}`);
        // a VIP routed locally loops back with itself as source: let the node in when it is allowed
        if (svc.loadBalancerSourceRanges.some((c) => ctx.nodeIPs.some((n) => cidrContains(c, n)))) {
          entry('KUBE-LOAD-BALANCER-SOURCE-IP', `${ipPort(ip)},${ip}`);
        }
      }
      vs(ip, svc.port, external, true);
    }
    if (svc.nodePort) {
      const sets =
        p === 'sctp'
          ? ['KUBE-NODE-PORT-SCTP-HASH', 'KUBE-NODE-PORT-LOCAL-SCTP-HASH']
          : [`KUBE-NODE-PORT-${p.toUpperCase()}`, `KUBE-NODE-PORT-LOCAL-${p.toUpperCase()}`];
      const entries = p === 'sctp' ? ctx.nodeIPs.map((ip) => ipPort(ip, svc.nodePort)) : [String(svc.nodePort)];
      for (const e of entries) {
        entry(sets[0], e);
        if (plan.externalLocal) entry(sets[1], e);
      }
      for (const ip of ctx.nodeIPs) vs(ip, svc.nodePort, external, false);
    }
    if (svc.healthCheckNodePort) entry('KUBE-HEALTH-CHECK-NODE-PORT', String(svc.healthCheckNodePort));
  }
  return st;
}
