// From the nftables policy plan in the kernel to the one wanted, as `nft -f` transactions (pure).
// A full sync replaces the whole table in one transaction (packets see the old table or the new
// one); a partial sync is one transaction that refills only the sets whose elements changed,
// rewrites only the pod chains whose rules changed and adds or deletes only the verdict map
// elements that changed. Chains and sets that fall out of use are flushed there and deleted by a
// later transaction, as kube-proxy's nftables mode does (older kernels notice only after the
// commit that a deleted map element no longer jumps to a chain).
import { EGRESS_MAP, INGRESS_MAP, NFT_TABLE, type NftPolicyPlan, type NftSet } from './nft-plan.ts';

const T = NFT_TABLE;
const same = (a: readonly string[] | undefined, b: readonly string[]): boolean => !!a && a.length === b.length && a.every((x, k) => x === b[k]);
const sameSet = (a: NftSet | undefined, b: NftSet): boolean => !!a && a.type === b.type && a.interval === b.interval && same(a.elements, b.elements);

/** The table, its hooks, the dispatch chain and the two verdict maps, from nothing. */
function baseLines(): string[] {
  return [
    `add table ${T} { comment "hawser network policy" ; }`,
    `delete table ${T}`,
    `add table ${T} { comment "hawser network policy" ; }`,
    `add chain ${T} input { type filter hook input priority 0 ; }`,
    `add chain ${T} forward { type filter hook forward priority 0 ; }`,
    `add chain ${T} dispatch`,
    `add map ${T} ${INGRESS_MAP} { type ipv4_addr : verdict ; comment "local pods isolated for ingress" ; }`,
    `add map ${T} ${EGRESS_MAP} { type ipv4_addr : verdict ; comment "local pods isolated for egress" ; }`,
    `add rule ${T} input jump dispatch`,
    `add rule ${T} forward jump dispatch`,
    `add rule ${T} dispatch ct state established,related return comment "replies and accepted connections"`,
    `add rule ${T} dispatch fib saddr type local return comment "from the node itself (kubelet probes)"`,
    `add rule ${T} dispatch ip saddr vmap @${EGRESS_MAP}`,
    `add rule ${T} dispatch ip daddr vmap @${INGRESS_MAP}`,
  ];
}

const setDecl = (name: string, s: NftSet) => `add set ${T} ${name} { type ${s.type} ;${s.interval ? ' flags interval ;' : ''} }`;
const elements = (op: 'add' | 'delete', set: string, items: string[]) => (items.length ? [`${op} element ${T} ${set} { ${items.join(', ')} }`] : []);
const vmapItems = (m: Map<string, string>, ips: Iterable<string>) => [...ips].map((ip) => `${ip} : jump ${m.get(ip)}`);

function chainLines(name: string, rules: string[], flush: boolean): string[] {
  return [`add chain ${T} ${name}`, ...(flush ? [`flush chain ${T} ${name}`] : []), ...rules.map((r) => `add rule ${T} ${name} ${r}`)];
}

const text = (lines: string[]) => (lines.length ? `${lines.join('\n')}\n` : '');

/** The whole table in one transaction. */
export function fullTransaction(p: NftPolicyPlan): string {
  const lines = baseLines();
  for (const [name, s] of p.sets) lines.push(setDecl(name, s), ...elements('add', name, s.elements));
  for (const [name, rules] of p.chains) lines.push(...chainLines(name, rules, false));
  lines.push(...elements('add', INGRESS_MAP, vmapItems(p.ingress, p.ingress.keys())), ...elements('add', EGRESS_MAP, vmapItems(p.egress, p.egress.keys())));
  return text(lines);
}

export interface PartialTransaction {
  /** '' when nothing differs */
  text: string;
  /** flushed here, to be deleted by deleteTransaction once nothing refers to them */
  staleChains: string[];
  staleSets: string[];
}

function mapDiff(map: string, before: Map<string, string>, next: Map<string, string>): { del: string[]; add: string[] } {
  const gone = [...before.keys()].filter((ip) => before.get(ip) !== next.get(ip));
  const added = [...next.keys()].filter((ip) => before.get(ip) !== next.get(ip));
  return { del: elements('delete', map, gone), add: elements('add', map, vmapItems(next, added)) };
}

/** One transaction for what changed between two plans. */
export function partialTransaction(before: NftPolicyPlan, next: NftPolicyPlan): PartialTransaction {
  const lines: string[] = [];
  for (const [name, s] of next.sets) {
    const old = before.sets.get(name);
    if (sameSet(old, s)) continue;
    if (old) lines.push(`flush set ${T} ${name}`);
    else lines.push(setDecl(name, s));
    lines.push(...elements('add', name, s.elements));
  }
  for (const [name, rules] of next.chains) if (!same(before.chains.get(name), rules)) lines.push(...chainLines(name, rules, before.chains.has(name)));
  const ing = mapDiff(INGRESS_MAP, before.ingress, next.ingress);
  const eg = mapDiff(EGRESS_MAP, before.egress, next.egress);
  lines.push(...ing.del, ...eg.del, ...ing.add, ...eg.add);
  const staleChains = [...before.chains.keys()].filter((c) => !next.chains.has(c));
  const staleSets = [...before.sets.keys()].filter((s) => !next.sets.has(s));
  lines.push(...staleChains.map((c) => `flush chain ${T} ${c}`));
  return { text: text(lines), staleChains, staleSets };
}

/** Deletes chains and sets flushed by an earlier transaction. */
export function deleteTransaction(chains: string[], sets: string[]): string {
  return text([...chains.map((c) => `delete chain ${T} ${c}`), ...sets.map((s) => `delete set ${T} ${s}`)]);
}

/** Removes the table (uninstall, or a switch to iptables mode); nothing when it is not there. */
export const removeTableTransaction = (): string => `add table ${T}\ndelete table ${T}\n`;
