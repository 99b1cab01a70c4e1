// NetworkPolicy as iptables chains and ipsets, decided as a pure function of the policies, pods and
// namespaces (the rule shape of kube-router, which k3s embeds):
//  - HAWSER-NETPOL, jumped to from FORWARD (bridged pod-to-pod frames pass there through
//    br_netfilter, routed ones anyway) and INPUT, first lets replies and already accepted
//    connections through (conntrack ESTABLISHED,RELATED) and traffic the node itself sends, then
//    sends a packet from a local pod isolated for egress to its egress chain and one to a local pod
//    isolated for ingress to its ingress chain.
//  - A pod chain (HAWSER-NPI-/HAWSER-NPE-<hash of the pod>) RETURNs what any rule of any policy
//    selecting the pod allows (rules are unions) and REJECTs the rest. A pod no policy of a type
//    selects has no chain of that type: it is not isolated in that direction.
//  - Peers are ipsets: one hash:ip of the pods a rule's podSelector/namespaceSelector peers select
//    (both in one peer: pods matching podSelector in namespaces matching namespaceSelector), one
//    hash:net per ipBlock (its except entries "nomatch"), and for an egress rule's named port a
//    hash:ip,port of the destination pods that name it. An ingress rule's named port is resolved
//    against the target pod's own container ports.
import { createHash } from 'node:crypto';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { fromLabelSelector, matchLabels } from '../control-plane/apiserver/selectors.ts';
import type { NpNamespace, NpPeer, NpPod, NpPolicy, NpRulePort } from './model.ts';

export const TOP_CHAIN = 'HAWSER-NETPOL';
export const CHAIN_PREFIX = 'HAWSER-NP';
export const SET_PREFIX = 'hnp-';

export type SetType = 'hash:ip' | 'hash:net' | 'hash:ip,port';

export interface IpSet {
  type: SetType;
  /** sorted ipset entries: "10.0.0.1", "10.0.0.0/8", "10.1.0.0/16 nomatch", "10.0.0.1,tcp:8080" */
  entries: string[];
}

export interface NpPlan {
  sets: Map<string, IpSet>;
  /** every chain we own with its rules (without "-A <chain>"), HAWSER-NETPOL included */
  chains: Map<string, string[]>;
}

export interface NpInput {
  node: string;
  policies: NpPolicy[];
  pods: NpPod[];
  namespaces: NpNamespace[];
}

type Direction = 'ingress' | 'egress';

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);
export const podChain = (d: Direction, p: NpPod): string => `${CHAIN_PREFIX}${d === 'ingress' ? 'I' : 'E'}-${hash(`${p.namespace}/${p.name}`).toUpperCase()}`;
const setName = (key: string): string => `${SET_PREFIX}${hash(key)}`;
const comment = (s: string): string => `-m comment --comment "${s.replace(/["\\]/g, '')}"`;

function selects(sel: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  try {
    return matchLabels(fromLabelSelector(sel), labels);
  } catch {
    return false; // an invalid selector (refused by the API server anyway) selects nothing
  }
}

function policyTypes(p: NpPolicy): Direction[] {
  const t = p.spec.policyTypes?.length ? p.spec.policyTypes : p.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
  return t.map((x) => x.toLowerCase()).filter((x): x is Direction => x === 'ingress' || x === 'egress');
}

/** ipset hash:net refuses a /0: the whole IPv4 space is its two halves. */
function netEntries(cidr: string, suffix = ''): string[] {
  return cidr.endsWith('/0') ? [`0.0.0.0/1${suffix}`, `128.0.0.0/1${suffix}`] : [`${cidr}${suffix}`];
}

const isV4Cidr = (c: string | undefined): c is string => !!c && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c);

interface Ctx {
  nsLabels: Map<string, Record<string, string>>;
  pods: NpPod[];
  sets: Map<string, IpSet>;
}

/** A rule's set is the same for every pod the policy selects: computed once per plan. */
function addSet(ctx: Ctx, key: string, type: SetType, entries: () => string[]): string {
  const name = setName(key);
  if (!ctx.sets.has(name)) ctx.sets.set(name, { type, entries: [...new Set(entries())].sort() });
  return name;
}

/** The pods a list of pod/namespace peers selects, seen from a policy in namespace ns. */
function peerPods(ctx: Ctx, ns: string, peers: NpPeer[]): NpPod[] {
  return ctx.pods.filter((pod) => peers.some((peer) => {
    if (peer.namespaceSelector) {
      if (!selects(peer.namespaceSelector, ctx.nsLabels.get(pod.namespace) ?? {})) return false;
    } else if (pod.namespace !== ns) return false;
    return !peer.podSelector || selects(peer.podSelector, pod.labels);
  }));
}

const proto = (p: NpRulePort): string => (p.protocol ?? 'TCP').toLowerCase();

/** "-p tcp -m tcp --dport N[:M]" for a numeric port (or the protocol alone without a port). */
function portMatch(p: NpRulePort, port?: number): string {
  const n = port ?? (typeof p.port === 'number' ? p.port : undefined);
  if (n === undefined) return `-p ${proto(p)}`;
  const range = port === undefined && p.endPort !== undefined && p.endPort > n ? `${n}:${p.endPort}` : String(n);
  return `-p ${proto(p)} -m ${proto(p)} --dport ${range}`;
}

/** The rule lines one ingress or egress rule adds to one target pod's chain. */
function ruleLines(ctx: Ctx, pol: NpPolicy, d: Direction, index: number, target: NpPod): string[] {
  const ingress = d === 'ingress' ? pol.spec.ingress?.[index] : undefined;
  const egress = d === 'egress' ? pol.spec.egress?.[index] : undefined;
  const peers: NpPeer[] = ingress?.from ?? egress?.to ?? [];
  const ports = ingress?.ports ?? egress?.ports ?? [];
  const dir = d === 'ingress' ? 'src' : 'dst';
  const key = `${pol.namespace}/${pol.name}/${d}/${index}`;
  const tag = comment(`${pol.namespace}/${pol.name} ${d}[${index}]`);
  // peer matches: '' = any address
  const peerMatches: string[] = [];
  const podPeers = peers.filter((p) => !p.ipBlock);
  if (!peers.length) peerMatches.push('');
  if (podPeers.length) {
    const name = addSet(ctx, `${key}/pods`, 'hash:ip', () => peerPods(ctx, pol.namespace, podPeers).map((p) => p.ip));
    peerMatches.push(`-m set --match-set ${name} ${dir}`);
  }
  peers.forEach((p, j) => {
    if (!isV4Cidr(p.ipBlock?.cidr)) return;
    const block = p.ipBlock;
    const entries = () => [...netEntries(block.cidr), ...(block.except ?? []).filter(isV4Cidr).flatMap((e) => netEntries(e, ' nomatch'))];
    peerMatches.push(`-m set --match-set ${addSet(ctx, `${key}/block/${j}`, 'hash:net', entries)} ${dir}`);
  });
  // port matches: '' = any port
  const portMatches: string[] = ports.length ? [] : [''];
  const lines: string[] = [];
  ports.forEach((p, j) => {
    if (typeof p.port !== 'string') { portMatches.push(portMatch(p)); return; }
    const named = p.port;
    if (d === 'ingress') {
      // resolved against the pod the traffic goes to: this one
      for (const cp of target.ports) if (cp.name === named && cp.protocol.toLowerCase() === proto(p)) portMatches.push(portMatch(p, cp.port));
      return;
    }
    // egress: resolved against each destination pod the rule's pod peers (or, without peers, any pod) select
    const entries = () => (peers.length ? peerPods(ctx, pol.namespace, podPeers) : ctx.pods).flatMap((pod) => pod.ports.filter((cp) => cp.name === named && cp.protocol.toLowerCase() === proto(p)).map((cp) => `${pod.ip},${proto(p)}:${cp.port}`));
    const name = addSet(ctx, `${key}/port/${j}`, 'hash:ip,port', entries);
    lines.push(`${tag} -p ${proto(p)} -m set --match-set ${name} dst,dst -j RETURN`);
  });
  for (const peer of peerMatches) for (const port of portMatches) lines.push([tag, peer, port, '-j RETURN'].filter(Boolean).join(' '));
  return lines;
}

export function plan(i: NpInput): NpPlan {
  const ctx: Ctx = { nsLabels: new Map(i.namespaces.map((n) => [n.name, n.labels])), pods: [...i.pods].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)), sets: new Map() };
  const policies = [...i.policies].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const chains = new Map<string, string[]>();
  const top: string[] = [];
  const jumps: string[] = [];
  const local = ctx.pods.filter((p) => p.node === i.node).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const d of ['egress', 'ingress'] as const) {
    for (const pod of local) {
      const selecting = policies.filter((p) => p.namespace === pod.namespace && policyTypes(p).includes(d) && selects(p.spec.podSelector, pod.labels));
      if (!selecting.length) continue;
      const rules: string[] = [];
      for (const pol of selecting) {
        const n = (d === 'ingress' ? pol.spec.ingress : pol.spec.egress)?.length ?? 0;
        for (let k = 0; k < n; k++) rules.push(...ruleLines(ctx, pol, d, k, pod));
      }
      rules.push(`${comment(`${pod.namespace}/${pod.name} ${d} default deny`)} -j REJECT`);
      const chain = podChain(d, pod);
      chains.set(chain, rules);
      jumps.push(`${comment(`${pod.namespace}/${pod.name} ${d}`)} ${d === 'ingress' ? '-d' : '-s'} ${pod.ip}/32 -j ${chain}`);
    }
  }
  if (jumps.length) {
    top.push(`${comment('replies and accepted connections')} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
    top.push(`${comment('from the node itself (kubelet probes)')} -m addrtype --src-type LOCAL -j RETURN`);
    top.push(...jumps);
  }
  chains.set(TOP_CHAIN, top);
  return { sets: ctx.sets, chains };
}
