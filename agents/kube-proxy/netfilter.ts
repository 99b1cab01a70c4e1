// The iptables plumbing both iptables-based backends share (iptables/ and ipvs/; nftables/ takes
// only the mark): upstream's masquerade mark and the rules around it, and the jumps from built-in
// chains into ours (found in an `iptables -S` listing, inserted first, deleted on cleanup). Kept
// here so that no backend imports another's internals.
import type { Exec } from '../api/exec.ts';

/** Upstream's masquerade mark (bit 14), set by KUBE-MARK-MASQ and cleared in KUBE-POSTROUTING. */
export const MASQ_MARK = '0x4000';

/** iptables' wait for the xtables lock, in seconds, on every call that may contend for it. */
export const XTABLES_WAIT = ['-w', '5'];

/** The nat rules that masquerade marked traffic (KUBE-POSTROUTING) and mark it (KUBE-MARK-MASQ). */
export const MASQUERADE_RULES: Record<'KUBE-POSTROUTING' | 'KUBE-MARK-MASQ', string[]> = {
  'KUBE-POSTROUTING': [
    `-A KUBE-POSTROUTING -m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
    `-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQ_MARK}`,
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ],
  'KUBE-MARK-MASQ': [`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQ_MARK}`],
};

/** KUBE-FORWARD's accepts: marked traffic and the replies of tracked connections. */
export const FORWARD_ACCEPTS = [
  `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
  '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
];

export interface JumpRule {
  table: string;
  chain: string;
  args: string;
}

/** Does a built-in chain's `iptables -S CHAIN` listing already hold this jump? */
export function hasJump(listing: string, j: JumpRule): boolean {
  const target = j.args.slice(j.args.lastIndexOf('-j '));
  const comment = /--comment ("[^"]*"|\S+)/.exec(j.args)?.[1] ?? '';
  return listing.split('\n').some((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(target) && l.includes(comment));
}

/** iptables-restore input from lines per table, tables without lines left out ('' when none has any). */
export function restoreText(byTable: Iterable<[string, string[]]>): string {
  return [...byTable]
    .filter(([, lines]) => lines.length)
    .map(([t, lines]) => `*${t}\n${lines.join('\n')}\nCOMMIT\n`)
    .join('');
}

/** Adds a line to its table's list. */
export function addLine(byTable: Map<string, string[]>, table: string, line: string): void {
  byTable.set(table, [...(byTable.get(table) ?? []), line]);
}

/** Restore text inserting the missing jumps first in their built-in chains ('' when none is missing). */
export function jumpRestore(missing: JumpRule[]): string {
  const byTable = new Map<string, string[]>();
  for (const j of [...missing].reverse()) addLine(byTable, j.table, `-I ${j.chain} 1 ${j.args}`);
  return restoreText(byTable);
}

/** The jumps of the list that are in the kernel, read with one `iptables -S` per built-in chain. */
export async function presentJumps(exec: Exec, jumps: JumpRule[], cmd = 'iptables'): Promise<JumpRule[]> {
  const keys = [...new Set(jumps.map((j) => `${j.table} ${j.chain}`))];
  const listed = await Promise.all(
    keys.map((k) => {
      const [table, chain] = k.split(' ');
      return exec(cmd, [...XTABLES_WAIT, '-t', table, '-S', chain]).catch(() => '');
    }),
  );
  const byKey = new Map(keys.map((k, i) => [k, listed[i]]));
  return jumps.filter((j) => hasJump(byKey.get(`${j.table} ${j.chain}`) ?? '', j));
}

/** Inserts the missing jumps first in their built-in chains (upstream's EnsureRule(Prepend)). */
export async function ensureJumps(exec: Exec, jumps: JumpRule[], cmd = 'iptables'): Promise<void> {
  const present = new Set(await presentJumps(exec, jumps, cmd));
  const text = jumpRestore(jumps.filter((j) => !present.has(j)));
  if (text) await exec(`${cmd}-restore`, ['--noflush', ...XTABLES_WAIT], text);
}

/** The restore lines (per table) deleting those of the jumps that are in the kernel: a cleanup's start. */
export async function jumpDeletions(exec: Exec, jumps: JumpRule[], cmd = 'iptables'): Promise<Map<string, string[]>> {
  const byTable = new Map<string, string[]>();
  for (const j of await presentJumps(exec, jumps, cmd)) addLine(byTable, j.table, `-D ${j.chain} ${j.args}`);
  return byTable;
}
