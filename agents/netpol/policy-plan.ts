// What NetworkPolicy means on this node, decided once as a pure function of the policies, pods and
// namespaces, before any rule syntax: for each local pod isolated in a direction, the list of what
// it allows (rules and policies are unions; anything else is refused), with the address sets the
// peers name. Both renderings read this and only this: iptables with ipsets (plan.ts, the rule
// shape of kube-router, which k3s embeds) and nftables with sets and verdict maps (nft-plan.ts), so
// the policy semantics live here once:
//  - A pod no policy of a type selects is not isolated in that direction.
//  - Peers: the pods a rule's podSelector/namespaceSelector peers select (both in one peer: pods
//    matching podSelector in namespaces matching namespaceSelector; podSelector alone: the
//    policy's namespace), each ipBlock (its cidr without its except entries), and for an egress
//    rule's named port the (ip, protocol, port) triples of the destination pods that name it. An
//    ingress rule's named port is resolved against the target pod's own container ports.
import { createHash } from 'node:crypto';
import type { V1LabelSelector } from '@kubernetes/client-node';
import { fromLabelSelector, matchLabels } from '../control-plane/apiserver/selectors.ts';
import type { NpNamespace, NpPeer, NpPod, NpPolicy, NpRulePort } from './model.ts';

export type Direction = 'ingress' | 'egress';

/** An address set a rule names; `except` of a block is taken out of its cidr. */
export type PeerSet =
  | { kind: 'ips'; ips: string[] }
  | { kind: 'block'; cidr: string; except: string[] }
  | { kind: 'ipports'; entries: { ip: string; proto: string; port: number }[] };

/** One thing an isolated pod allows: from/to `peer` (any address when absent) on `port` (any when absent), or to a named-port set. */
export interface Allow {
  /** "<namespace>/<policy> <direction>[<rule index>]" */
  tag: string;
  /** the id of a PeerSet of kind ips or block */
  peer?: string;
  /** a protocol with a port or range; protocol alone when `port` is absent */
  port?: { proto: string; port?: number; endPort?: number };
  /** an ipports set (destination address, protocol and port together) of this protocol */
  ipPorts?: { set: string; proto: string };
}

export interface Isolation {
  direction: Direction;
  pod: NpPod;
  allows: Allow[];
}

export interface PolicyPlan {
  /** set id (16 hex digits, stable for a policy's rule) -> set */
  sets: Map<string, PeerSet>;
  /** local pods isolated for egress (sorted by namespace/name), then those isolated for ingress */
  isolated: Isolation[];
}

export interface NpInput {
  node: string;
  policies: NpPolicy[];
  pods: NpPod[];
  namespaces: NpNamespace[];
}

export const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

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

export const isV4Cidr = (c: string | undefined): c is string => !!c && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c);

interface Ctx {
  nsLabels: Map<string, Record<string, string>>;
  pods: NpPod[];
  sets: Map<string, PeerSet>;
}

/** A rule's set is the same for every pod the policy selects: computed once per plan. */
function addSet(ctx: Ctx, key: string, make: () => PeerSet): string {
  const id = hash(key);
  if (!ctx.sets.has(id)) ctx.sets.set(id, make());
  return id;
}

/** The pods a list of pod/namespace peers selects, seen from a policy in namespace ns. */
function peerPods(ctx: Ctx, ns: string, peers: NpPeer[]): NpPod[] {
  return ctx.pods.filter((pod) =>
    peers.some((peer) => {
      if (peer.namespaceSelector) {
        if (!selects(peer.namespaceSelector, ctx.nsLabels.get(pod.namespace) ?? {})) return false;
      } else if (pod.namespace !== ns) return false;
      return !peer.podSelector || selects(peer.podSelector, pod.labels);
    }),
  );
}

const proto = (p: NpRulePort): string => (p.protocol ?? 'TCP').toLowerCase();
const sortedUnique = (xs: string[]): string[] => [...new Set(xs)].sort();

/** What one ingress or egress rule allows one target pod. */
function ruleAllows(ctx: Ctx, pol: NpPolicy, d: Direction, index: number, target: NpPod): Allow[] {
  const rule = d === 'ingress' ? pol.spec.ingress?.[index] : pol.spec.egress?.[index];
  const peers: NpPeer[] = (rule && ('from' in rule ? rule.from : 'to' in rule ? rule.to : undefined)) ?? [];
  const ports = rule?.ports ?? [];
  const key = `${pol.namespace}/${pol.name}/${d}/${index}`;
  const tag = `${pol.namespace}/${pol.name} ${d}[${index}]`;
  // peers: undefined = any address
  const peerIds: (string | undefined)[] = [];
  const podPeers = peers.filter((p) => !p.ipBlock);
  if (!peers.length) peerIds.push(undefined);
  if (podPeers.length)
    peerIds.push(addSet(ctx, `${key}/pods`, () => ({ kind: 'ips', ips: sortedUnique(peerPods(ctx, pol.namespace, podPeers).map((p) => p.ip)) })));
  peers.forEach((p, j) => {
    const block = p.ipBlock;
    if (!block || !isV4Cidr(block.cidr)) return;
    peerIds.push(addSet(ctx, `${key}/block/${j}`, () => ({ kind: 'block', cidr: block.cidr, except: sortedUnique((block.except ?? []).filter(isV4Cidr)) })));
  });
  // ports: undefined = any port
  const portMatches: (Allow['port'] | undefined)[] = ports.length ? [] : [undefined];
  const out: Allow[] = [];
  ports.forEach((p, j) => {
    if (typeof p.port !== 'string') {
      const n = p.port;
      portMatches.push({ proto: proto(p), port: n, endPort: n !== undefined && p.endPort !== undefined && p.endPort > n ? p.endPort : undefined });
      return;
    }
    const named = p.port;
    const matching = (pod: NpPod) => pod.ports.filter((cp) => cp.name === named && cp.protocol.toLowerCase() === proto(p));
    if (d === 'ingress') {
      // resolved against the pod the traffic goes to: this one
      for (const cp of matching(target)) portMatches.push({ proto: proto(p), port: cp.port });
      return;
    }
    // egress: resolved against each destination pod the rule's pod peers (or, without peers, any pod) select
    const set = addSet(ctx, `${key}/port/${j}`, () => {
      const entries = (peers.length ? peerPods(ctx, pol.namespace, podPeers) : ctx.pods).flatMap((pod) =>
        matching(pod).map((cp) => ({ ip: pod.ip, proto: proto(p), port: cp.port })),
      );
      const seen = new Map(entries.map((e) => [`${e.ip},${e.proto}:${e.port}`, e]));
      return { kind: 'ipports', entries: [...seen.keys()].sort().map((k) => seen.get(k)!) };
    });
    out.push({ tag, ipPorts: { set, proto: proto(p) } });
  });
  for (const peer of peerIds) for (const port of portMatches) out.push({ tag, ...(peer ? { peer } : {}), ...(port ? { port } : {}) });
  return out;
}

export function policyPlan(i: NpInput): PolicyPlan {
  const ctx: Ctx = {
    nsLabels: new Map(i.namespaces.map((n) => [n.name, n.labels])),
    pods: [...i.pods].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0)),
    sets: new Map(),
  };
  const policies = [...i.policies].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const isolated: Isolation[] = [];
  const local = ctx.pods.filter((p) => p.node === i.node).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const direction of ['egress', 'ingress'] as const) {
    for (const pod of local) {
      const selecting = policies.filter((p) => p.namespace === pod.namespace && policyTypes(p).includes(direction) && selects(p.spec.podSelector, pod.labels));
      if (!selecting.length) continue;
      const allows: Allow[] = [];
      for (const pol of selecting) {
        const n = (direction === 'ingress' ? pol.spec.ingress : pol.spec.egress)?.length ?? 0;
        for (let k = 0; k < n; k++) allows.push(...ruleAllows(ctx, pol, direction, k, pod));
      }
      isolated.push({ direction, pod, allows });
    }
  }
  return { sets: ctx.sets, isolated };
}
