// From nftables fragments to `nft -f` transactions, as pure functions. A full sync deletes and
// rebuilds the table in one transaction (atomic: packets see the old table or the new one); a
// partial sync is one transaction that rewrites only the changed Services' chains and adds or
// deletes only the map elements whose verdict changed. Chains and affinity sets that fall out of
// use are flushed at once and deleted by a later transaction, as upstream does (older kernels
// notice only later that a deleted map element no longer refers to a chain).
import { MASQ_MARK } from '../netfilter.ts';
import { HAIRPIN_SET, MAPS, TABLE, type NftFragment } from './render.ts';

export interface NftBaseOptions {
  nodePortIPs: string[];
}

/** The table, its base chains, maps and fixed rules, from nothing. */
export function baseTransaction(o: NftBaseOptions): string[] {
  const t = TABLE;
  const nodePort = o.nodePortIPs.length ? 'ip daddr @nodeport-ips' : 'fib daddr type local ip daddr != 127.0.0.0/8';
  const lines = [
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `delete table ${t}`,
    `add table ${t} { comment "rules for kube-proxy" ; }`,
    `add chain ${t} filter-prerouting { type filter hook prerouting priority -110 ; }`,
    `add chain ${t} filter-input { type filter hook input priority -110 ; }`,
    `add chain ${t} filter-forward { type filter hook forward priority -110 ; }`,
    `add chain ${t} filter-output { type filter hook output priority -110 ; }`,
    `add chain ${t} nat-prerouting { type nat hook prerouting priority -100 ; }`,
    `add chain ${t} nat-output { type nat hook output priority -100 ; }`,
    `add chain ${t} nat-postrouting { type nat hook postrouting priority 100 ; }`,
    ...['services', 'masquerading', 'mark-for-masquerade', 'endpoints-check', 'firewall-check', 'reject-chain'].map((c) => `add chain ${t} ${c}`),
    `add set ${t} ${HAIRPIN_SET} { type ipv4_addr . ipv4_addr ; comment "endpoints that reach themselves through a Service" ; }`,
    `add map ${t} service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
    `add map ${t} service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }`,
    `add map ${t} no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
    `add map ${t} no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }`,
    `add map ${t} firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
  ];
  if (o.nodePortIPs.length) {
    lines.push(
      `add set ${t} nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }`,
      `add element ${t} nodeport-ips { ${o.nodePortIPs.join(', ')} }`,
    );
  }
  const rule = (chain: string, body: string) => lines.push(`add rule ${t} ${chain} ${body}`);
  rule('filter-prerouting', 'ct state new jump firewall-check');
  rule('filter-input', 'ct state new jump endpoints-check');
  rule('filter-forward', 'ct state new jump endpoints-check');
  rule('filter-output', 'ct state new jump endpoints-check');
  rule('filter-output', 'ct state new jump firewall-check');
  rule('nat-prerouting', 'jump services');
  rule('nat-output', 'jump services');
  rule('nat-postrouting', 'jump masquerading');
  rule('mark-for-masquerade', `mark set mark or ${MASQ_MARK}`);
  rule('masquerading', `ct status dnat ip saddr . ip daddr @${HAIRPIN_SET} masquerade fully-random`);
  rule('masquerading', `mark and ${MASQ_MARK} == 0 return`);
  rule('masquerading', `mark set mark xor ${MASQ_MARK}`);
  rule('masquerading', 'masquerade fully-random');
  rule('reject-chain', 'meta l4proto tcp reject with tcp reset');
  rule('reject-chain', 'reject');
  rule('endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
  rule('endpoints-check', `${nodePort} meta l4proto . th dport vmap @no-endpoint-nodeports`);
  rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips');
  rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips');
  rule('services', `${nodePort} meta l4proto . th dport vmap @service-nodeports`);
  return lines;
}

const ALL_ELEMENT_SETS = [...MAPS, HAIRPIN_SET];

function elementLine(op: 'add' | 'delete', set: string, entries: Array<[string, string]>): string {
  const items = entries.map(([k, v]) => (op === 'add' && v ? `${k} : ${v}` : k));
  return `${op} element ${TABLE} ${set} { ${items.join(', ')} }`;
}

/**
 * Who claims which element. Several Services may claim the same one (a hairpin pair of a shared
 * endpoint, or a misconfigured shared external IP): the element stays while anyone claims it.
 */
export class ElementBook {
  private owners = new Map<string, Map<string, string>>();

  private static id(set: string, key: string): string {
    return `${set}\t${key}`;
  }
  private effective(id: string): string | undefined {
    return this.owners.get(id)?.values().next().value;
  }

  /** Records a Service's new claims and returns the element operations that follow. */
  update(svc: string, prev: NftFragment | undefined, next: NftFragment | undefined): { del: Op[]; add: Op[] } {
    const touched = new Set<string>();
    for (const f of [prev, next]) for (const [set, m] of f?.elements ?? []) for (const k of m.keys()) touched.add(ElementBook.id(set, k));
    const del: Op[] = [];
    const add: Op[] = [];
    for (const id of touched) {
      const [set, key] = id.split('\t');
      const before = this.effective(id);
      const want = next?.elements.get(set)?.get(key);
      let owners = this.owners.get(id);
      if (want === undefined) owners?.delete(svc);
      else {
        if (!owners) this.owners.set(id, (owners = new Map()));
        owners.set(svc, want);
      }
      if (owners && owners.size === 0) this.owners.delete(id);
      const after = this.effective(id);
      if (before === after) continue;
      if (before !== undefined) del.push({ set, key, value: '' });
      if (after !== undefined) add.push({ set, key, value: after });
    }
    return { del, add };
  }

  clear(): void {
    this.owners.clear();
  }
}

export interface Op {
  set: string;
  key: string;
  value: string;
}

function elementLines(op: 'add' | 'delete', ops: Op[]): string[] {
  const bySet = new Map<string, Array<[string, string]>>();
  for (const o of ops) {
    let list = bySet.get(o.set);
    if (!list) bySet.set(o.set, (list = []));
    list.push([o.key, o.value]);
  }
  return ALL_ELEMENT_SETS.filter((s) => bySet.has(s)).map((s) => elementLine(op, s, bySet.get(s)!));
}

function chainLines(chains: Array<[string, string[]]>, flush: boolean): string[] {
  const out = chains.map(([c]) => `add chain ${TABLE} ${c}`);
  for (const [c, rules] of chains) {
    if (flush) out.push(`flush chain ${TABLE} ${c}`);
    for (const r of rules) out.push(`add rule ${TABLE} ${c} ${r}`);
  }
  return out;
}

const setLine = (name: string, timeout: number) => `add set ${TABLE} ${name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ; }`;

/** The whole table in one transaction; the book is rebuilt to match. */
export function fullTransaction(fragments: Map<string, NftFragment>, o: NftBaseOptions, book: ElementBook): string {
  book.clear();
  const lines = baseTransaction(o);
  const chains: Array<[string, string[]]> = [];
  const adds: Op[] = [];
  for (const [svc, f] of fragments) {
    for (const [s, t] of f.affinitySets) lines.push(setLine(s, t));
    chains.push(...f.chains);
    adds.push(...book.update(svc, undefined, f).add);
  }
  lines.push(...chainLines(chains, false), ...elementLines('add', adds));
  return `${lines.join('\n')}\n`;
}

export interface PartialResult {
  text: string;
  staleChains: string[];
  staleSets: string[];
  revived: string[];
}

/** One transaction for the changed Services; '' when nothing differs. Updates the book. */
export function partialTransaction(applied: Map<string, NftFragment>, changed: Map<string, NftFragment | undefined>, book: ElementBook): PartialResult {
  const sets: string[] = [];
  const written: Array<[string, string[]]> = [];
  const staleChains: string[] = [];
  const staleSets: string[] = [];
  const revived: string[] = [];
  const del: Op[] = [];
  const add: Op[] = [];
  for (const [svc, next] of changed) {
    const prev = applied.get(svc);
    for (const [s, t] of next?.affinitySets ?? []) {
      if (prev?.affinitySets.get(s) !== t) {
        sets.push(setLine(s, t));
        revived.push(s);
      }
    }
    for (const s of prev?.affinitySets.keys() ?? []) if (!next?.affinitySets.has(s)) staleSets.push(s);
    for (const [c, rules] of next?.chains ?? []) {
      const old = prev?.chains.get(c);
      if (!old || old.length !== rules.length || old.some((r, k) => r !== rules[k])) {
        written.push([c, rules]);
        revived.push(c);
      }
    }
    for (const c of prev?.chains.keys() ?? []) if (!next?.chains.has(c)) staleChains.push(c);
    const ops = book.update(svc, prev, next);
    del.push(...ops.del);
    add.push(...ops.add);
  }
  const lines = [
    ...sets,
    ...chainLines(written, true),
    ...elementLines('delete', del),
    ...elementLines('add', add),
    ...staleChains.map((c) => `flush chain ${TABLE} ${c}`),
  ];
  return { text: lines.length ? `${lines.join('\n')}\n` : '', staleChains, staleSets, revived };
}

/** Deletes chains and sets that have been unused for a while. */
export function deleteTransaction(chains: string[], sets: string[]): string {
  const lines = [...chains.map((c) => `delete chain ${TABLE} ${c}`), ...sets.map((s) => `delete set ${TABLE} ${s}`)];
  return lines.length ? `${lines.join('\n')}\n` : '';
}
