// Which iptables rules an uninstall removes, decided from `iptables-save` output alone: every chain
// the agents made (kube-proxy's KUBE-*, the CNI plugins' CNI-*, podnet's HAWSER-*), and the rules in
// other chains that jump to them. The answer is an `iptables-restore --noflush` script that deletes
// exactly those, so rules that other software keeps in the same tables stay as they are (k3s'
// killall script instead rewrites whole tables without them).

export const OUR_CHAIN_PREFIXES = ['KUBE-', 'CNI-', 'HAWSER-'];

export const isOurChain = (chain: string): boolean => OUR_CHAIN_PREFIXES.some((p) => chain.startsWith(p));

/** The jump or goto target of a rule line ("-A X ... -j Y"), if any. */
function targetOf(rule: string): string | undefined {
  return /\s-[jg]\s+(\S+)/.exec(` ${rule}`)?.[1] ?? undefined;
}

/** The --noflush script removing our chains and the jumps into them; "" when there is none. */
export function removalScript(save: string): string {
  const out: string[] = [];
  let table: string | undefined;
  let ours: string[] = [];
  let jumps: string[] = [];
  const flushTable = () => {
    if (table && (ours.length || jumps.length)) {
      out.push(`*${table}`, ...jumps, ...ours.map((c) => `-F ${c}`), ...ours.map((c) => `-X ${c}`), 'COMMIT');
    }
    ours = [];
    jumps = [];
  };
  for (const raw of save.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) {
      flushTable();
      table = line.slice(1);
      continue;
    }
    if (line === 'COMMIT') {
      flushTable();
      table = undefined;
      continue;
    }
    if (!table) continue;
    const decl = /^:(\S+)\s/.exec(line);
    if (decl) {
      if (isOurChain(decl[1])) ours.push(decl[1]);
      continue;
    }
    const rule = /^-A\s+(\S+)\s+(.*)$/.exec(line);
    if (!rule || isOurChain(rule[1])) continue; // rules inside our chains go with the flush
    const target = targetOf(rule[2]);
    if (target && isOurChain(target)) jumps.push(`-D ${rule[1]} ${rule[2]}`);
  }
  flushTable();
  return out.length ? `${out.join('\n')}\n` : '';
}
