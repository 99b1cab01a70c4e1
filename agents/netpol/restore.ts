// From the plan in the kernel to the plan wanted, as restore inputs (pure): only the ipsets whose
// entries changed are refilled, each atomically (filled under a temporary name, then swapped in, so
// no packet sees it half-filled), and only the chains whose rules changed are rewritten, in one
// iptables-restore --noflush input; stale chains are emptied there and deleted after, and stale
// sets destroyed last, once no rule names them.
import { TOP_CHAIN, type IpSet, type NpPlan } from './plan.ts';

export interface Steps {
  /** `ipset restore -exist` input creating or refilling sets, run first */
  sets: string;
  /** `iptables-restore --noflush` input writing chains, run second */
  rules: string;
  /** `iptables-restore --noflush` input deleting stale chains */
  dropChains: string;
  /** `ipset restore` input destroying stale sets, run last */
  dropSets: string;
}

/** What is known to be in the kernel: the last applied plan, or (after a start) our names found there. */
export type Applied = { plan: NpPlan } | { chains: string[]; sets: string[] };

const same = (a: readonly string[] | undefined, b: readonly string[]): boolean => !!a && a.length === b.length && a.every((x, k) => x === b[k]);
const sameSet = (a: IpSet | undefined, b: IpSet): boolean => !!a && a.type === b.type && same(a.entries, b.entries);

function setLines(name: string, s: IpSet): string[] {
  const tmp = `${name}-t`;
  return [
    `create ${name} ${s.type} family inet -exist`,
    `create ${tmp} ${s.type} family inet -exist`,
    `flush ${tmp}`,
    ...s.entries.map((e) => `add ${tmp} ${e}`),
    `swap ${tmp} ${name}`,
    `destroy ${tmp}`,
  ];
}

export function steps(applied: Applied, next: NpPlan): Steps {
  const before = 'plan' in applied ? applied.plan : undefined;
  const oldChains = 'plan' in applied ? [...applied.plan.chains.keys()] : applied.chains;
  const oldSets = 'plan' in applied ? [...applied.plan.sets.keys()] : applied.sets;
  const sets: string[] = [];
  for (const [name, s] of next.sets) if (!sameSet(before?.sets.get(name), s)) sets.push(...setLines(name, s));
  const decl: string[] = [];
  const body: string[] = [];
  for (const [chain, rules] of next.chains) {
    if (same(before?.chains.get(chain), rules)) continue;
    decl.push(`:${chain} - [0:0]`);
    for (const r of rules) body.push(`-A ${chain} ${r}`);
  }
  const staleChains = oldChains.filter((c) => !next.chains.has(c) && c !== TOP_CHAIN);
  for (const c of staleChains) decl.push(`:${c} - [0:0]`);
  const staleSets = oldSets.filter((s) => !next.sets.has(s));
  return {
    sets: sets.length ? `${sets.join('\n')}\n` : '',
    rules: decl.length ? `*filter\n${[...decl, ...body].join('\n')}\nCOMMIT\n` : '',
    dropChains: staleChains.length ? `*filter\n${staleChains.map((c) => `-X ${c}`).join('\n')}\nCOMMIT\n` : '',
    dropSets: staleSets.length ? `${staleSets.map((s) => `destroy ${s}`).join('\n')}\n` : '',
  };
}
