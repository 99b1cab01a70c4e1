// From rendered fragments to iptables-restore input, as pure functions. Two facts measured on this
// machine shape it (iptables 1.8.9, nf_tables backend):
//  - `iptables-restore --noflush` slows down quadratically with the number of chains that one input
//    creates and jumps to (5,000 Services x 10 endpoints in one input: over an hour), while inputs of
//    a few hundred chains each load the same rules as fast as a plain restore. So big changes are cut
//    into several inputs, a Service's chains always together, shared chains last.
//  - rewriting a 5,000-rule KUBE-SERVICES costs ~300 ms, deleting and inserting one rule in it
//    ~80 ms, and skipping it ~0: so a partial sync leaves shared chains alone unless one of their
//    rules changed, and then edits only those rules.
import { TOP_CHAINS, type IptFragment, type TopChain } from './render.ts';
import { CANARY, staticChains } from './statics.ts';

export const MAX_CHAINS_PER_RESTORE = 700;
/**
 * Chains per input when a full sync rewrites chains that are already in the kernel (a resync).
 * Each commit then re-validates every rule reachable from the built-in chains (~150 ms at 5,000
 * Services), so fewer inputs win over the parse cost of bigger ones. 5,000 Services here, two in
 * flight: 700 per input ~16 s, 2,800 ~7.5 s, 5,600 ~5.5 s, 11,200 ~7 s.
 */
export const RESYNC_CHAINS_PER_RESTORE = 5600;
/**
 * iptables-restore runs in flight during a full sync (iptables-nft only): with two, one input is
 * parsed while the kernel commits the other. 1,000 Services here: 17 inputs one at a time ~860 ms,
 * two at a time ~640 ms, against ~870 ms for one plain restore of the same rules.
 */
export const RESTORE_PARALLELISM = 2;
/** above this many edited rules a shared chain is rewritten whole instead */
export const MAX_TOP_EDITS = 200;

const decl = (c: string): string => `:${c} - [0:0]`;
const tableOf = (t: TopChain): 'nat' | 'filter' => (t.startsWith('nat ') ? 'nat' : 'filter');
const chainOf = (t: TopChain): string => t.slice(t.indexOf(' ') + 1);

const FILTER_TOP = ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL'];

type Tails = Partial<Record<TopChain, string[]>>;

/** One whole shared chain: every Service's rules, then its static tail. */
export function composeTop(frags: Iterable<IptFragment>, chain: TopChain, tails: Tails): string[] {
  const out: string[] = [];
  for (const f of frags) for (const r of f.top[chain]) out.push(`-A ${chainOf(chain)} ${r}`);
  for (const r of tails[chain] ?? []) out.push(`-A ${chainOf(chain)} ${r}`);
  return out;
}

interface Section {
  head: string[];
  pre: string[];
  body: string[];
  post: string[];
  tail: string[];
}
const section = (): Section => ({ head: [], pre: [], body: [], post: [], tail: [] });

function render(tables: Map<string, Section>): string {
  let out = '';
  for (const [t, s] of tables) {
    const lines = [...s.head, ...s.pre, ...s.body, ...s.post, ...s.tail];
    if (lines.length) out += `*${t}\n${lines.join('\n')}\nCOMMIT\n`;
  }
  return out;
}

/**
 * One restore input writing whole Service chain groups (a Service's chains are never split).
 * iptables-nft 1.8.9 keeps the chains an input names in a list sorted by name, inserting each by a
 * walk from its head: declared in descending order, every insertion stops at the head.
 */
export function chainsRestore(groups: Array<Array<[string, string[]]>>): string {
  const names: string[] = [];
  let rules = '';
  for (const g of groups) {
    for (const [c, rs] of g) {
      names.push(c);
      for (const r of rs) rules += `${r}\n`;
    }
  }
  if (!names.length) return '';
  names.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  return `*nat\n${names.map(decl).join('\n')}\n${rules}COMMIT\n`;
}

/** Cuts per-Service chain writes into restore inputs of at most maxChains chains each. */
function chunk(groups: Array<Array<[string, string[]]>>, maxChains: number): string[] {
  const out: string[] = [];
  let batch: Array<Array<[string, string[]]>> = [];
  let n = 0;
  for (const g of groups) {
    if (n && n + g.length > maxChains) {
      out.push(chainsRestore(batch));
      batch = [];
      n = 0;
    }
    batch.push(g);
    n += g.length;
  }
  if (n) out.push(chainsRestore(batch));
  return out;
}

/** The static nat chains, first: Service chains jump to KUBE-MARK-MASQ. */
export function preludeRestore(): string {
  const prelude = section();
  for (const [c, rules] of staticChains().nat) {
    prelude.head.push(decl(c));
    prelude.body.push(...rules);
  }
  return render(new Map([['nat', prelude]]));
}

/** After the Service chains: every shared chain in one atomic input, then stale chains removed. */
export function finalRestores(fragments: Iterable<IptFragment>, tails: Tails, stale: string[], maxChains = MAX_CHAINS_PER_RESTORE): string[] {
  const filter = section();
  const nat = section();
  const mangle = section();
  for (const c of FILTER_TOP) filter.head.push(decl(c));
  for (const c of ['KUBE-SERVICES', 'KUBE-NODEPORTS']) nat.head.push(decl(c));
  for (const s of [filter, nat, mangle]) s.head.push(decl(CANARY));
  for (const [, rules] of staticChains().filter) filter.body.push(...rules);
  const frags = [...fragments];
  for (const t of TOP_CHAINS) (tableOf(t) === 'nat' ? nat : filter).body.push(...composeTop(frags, t, tails));
  const out = [
    render(
      new Map([
        ['filter', filter],
        ['nat', nat],
        ['mangle', mangle],
      ]),
    ),
  ];
  // Stale chains may jump to each other: flush them all, then delete in chunks.
  if (stale.length) {
    out.push(`*nat\n${stale.map(decl).join('\n')}\nCOMMIT\n`);
    for (let k = 0; k < stale.length; k += maxChains) {
      out.push(
        `*nat\n${stale
          .slice(k, k + maxChains)
          .map((c) => `-X ${c}`)
          .join('\n')}\nCOMMIT\n`,
      );
    }
  }
  return out;
}

/**
 * Several restore inputs as one: per table, every chain declaration first (deduplicated), then the
 * other lines in their order. Equivalent to running them one after another as long as no input
 * declares, and so flushes, a chain that an earlier one wrote rules to: true of a full sync's
 * inputs, where each chain is declared once and stale chains are only flushed and deleted.
 */
export function mergeRestores(texts: string[]): string {
  const tables = new Map<string, { decls: Set<string>; lines: string[] }>();
  for (const text of texts) {
    let cur: { decls: Set<string>; lines: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) {
        const name = line.slice(1);
        cur = tables.get(name);
        if (!cur) tables.set(name, (cur = { decls: new Set(), lines: [] }));
      } else if (!cur || !line || line === 'COMMIT') {
        continue;
      } else if (line.startsWith(':')) {
        cur.decls.add(line);
      } else {
        cur.lines.push(line);
      }
    }
  }
  let out = '';
  for (const [t, s] of tables) out += `*${t}\n${[...s.decls, ...s.lines].join('\n')}\nCOMMIT\n`;
  return out;
}

export interface FullSyncInput {
  fragments: Map<string, IptFragment>;
  tails: Tails;
  /** our per-Service chains found in the kernel, removed unless still wanted */
  existing: Iterable<string>;
  maxChains?: number;
}

/** Every rule from scratch: static chains, Service chains in chunks, shared chains last. */
export function fullSync(i: FullSyncInput): string[] {
  const max = i.maxChains ?? MAX_CHAINS_PER_RESTORE;
  const wanted = new Set<string>();
  const groups: Array<Array<[string, string[]]>> = [];
  for (const f of i.fragments.values()) {
    groups.push([...f.chains]);
    for (const c of f.chains.keys()) wanted.add(c);
  }
  const stale = [...i.existing].filter((c) => !wanted.has(c));
  return [preludeRestore(), ...chunk(groups, max), ...finalRestores(i.fragments.values(), i.tails, stale, max)];
}

const sameLines = (a: string[] | undefined, b: string[]): boolean => !!a && a.length === b.length && a.every((l, k) => l === b[k]);

/** Lines of a in excess of b, as a multiset difference. */
function minus(a: string[], b: string[]): string[] {
  const count = new Map<string, number>();
  for (const l of b) count.set(l, (count.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of a) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else out.push(l);
  }
  return out;
}

function push<K>(m: Map<K, string[]>, k: K, lines: string[]): void {
  let list = m.get(k);
  if (!list) m.set(k, (list = []));
  for (const l of lines) list.push(l);
}

export interface PartialSyncInput {
  /** what the kernel holds, by Service */
  applied: Map<string, IptFragment>;
  /** the changed Services' new fragments; undefined for a Service that is gone */
  changed: Map<string, IptFragment | undefined>;
  tails: Tails;
  maxChains?: number;
  maxTopEdits?: number;
}

/**
 * Only what changed: the changed Services' chains (new or different ones written, vanished ones
 * deleted) and single-rule edits of the shared chains. Returns [] when the kernel is already right.
 */
export function partialSync(i: PartialSyncInput): string[] {
  const max = i.maxChains ?? MAX_CHAINS_PER_RESTORE;
  const groups: Array<Array<[string, string[]]>> = [];
  const stale: string[] = [];
  const removed = new Map<TopChain, string[]>();
  const added = new Map<TopChain, string[]>();
  let written = 0;
  for (const [svc, next] of i.changed) {
    const prev = i.applied.get(svc);
    const g: Array<[string, string[]]> = [];
    for (const [c, rules] of next?.chains ?? []) if (!sameLines(prev?.chains.get(c), rules)) g.push([c, rules]);
    for (const c of prev?.chains.keys() ?? []) if (!next?.chains.has(c)) stale.push(c);
    if (g.length) {
      groups.push(g);
      written += g.length;
    }
    for (const t of TOP_CHAINS) {
      const before = prev?.top[t] ?? [];
      const after = next?.top[t] ?? [];
      if (sameLines(before, after)) continue;
      push(removed, t, minus(before, after));
      push(added, t, minus(after, before));
    }
  }

  const tables = new Map([
    ['filter', section()],
    ['nat', section()],
  ]);
  let merged: IptFragment[] | undefined;
  for (const t of TOP_CHAINS) {
    const del = removed.get(t) ?? [];
    const add = added.get(t) ?? [];
    if (!del.length && !add.length) continue;
    const s = tables.get(tableOf(t))!;
    const c = chainOf(t);
    if (del.length + add.length > (i.maxTopEdits ?? MAX_TOP_EDITS)) {
      merged ??= mergedFragments(i.applied, i.changed);
      s.head.push(decl(c));
      s.post.push(...composeTop(merged, t, i.tails));
      continue;
    }
    for (const r of del) s.pre.push(`-D ${c} ${r}`);
    // The NodePort jump must stay last in nat KUBE-SERVICES: insert Service rules at the top.
    for (const r of add) s.post.push(t === 'nat KUBE-SERVICES' ? `-I ${c} 1 ${r}` : `-A ${c} ${r}`);
  }
  const nat = tables.get('nat')!;
  for (const c of stale) {
    nat.head.push(decl(c));
    nat.tail.push(`-X ${c}`);
  }

  if (written <= max) {
    for (const g of groups)
      for (const [c, rules] of g) {
        nat.head.push(decl(c));
        nat.body.push(...rules);
      }
    const text = render(tables);
    return text ? [text] : [];
  }
  const out = chunk(groups, max);
  const text = render(tables);
  if (text) out.push(text);
  return out;
}

function mergedFragments(applied: Map<string, IptFragment>, changed: Map<string, IptFragment | undefined>): IptFragment[] {
  const out: IptFragment[] = [];
  for (const [svc, f] of applied) if (!changed.has(svc)) out.push(f);
  for (const f of changed.values()) if (f) out.push(f);
  return out;
}

/** Rule counts per table, for the kubeproxy_sync_proxy_rules_iptables_total gauge. */
export function ruleCounts(fragments: Iterable<IptFragment>): { nat: number; filter: number } {
  let nat = 0;
  let filter = 0;
  for (const f of fragments) {
    for (const rules of f.chains.values()) nat += rules.length;
    for (const t of TOP_CHAINS) tableOf(t) === 'nat' ? (nat += f.top[t].length) : (filter += f.top[t].length);
  }
  return { nat, filter };
}
