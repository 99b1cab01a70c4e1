// What "the machine as it was" means for uninstall: its file list (the root filesystem only, not
// /proc, /sys, /run, /tmp, journals or bind mounts such as /var/lib/containerd) and its firewall
// rules as iptables-save prints them, with counters dropped and an empty built-in table (ACCEPT
// policies, no rules: what iptables-nft leaves once it has listed a table) counting as none.
import { machineRun } from '../../agents/cli/machines/nspawn.ts';
import type { Machine } from '../../agents/cli/machines/topology.ts';

const VOLATILE = /^\/(var\/log\/journal|var\/lib\/systemd|var\/tmp|var\/cache\/ldconfig|etc\/ld\.so\.cache)(\/|$)/;

export interface Snapshot {
  files: string[];
  rules: string[];
}

export function normalizeRules(save: string): string[] {
  const out: string[] = [];
  let table = '';
  let lines: string[] = [];
  for (const raw of save.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    if (l.startsWith('*')) {
      table = l;
      lines = [];
      continue;
    }
    if (l === 'COMMIT') {
      out.push(...lines.map((x) => `${table} ${x}`));
      continue;
    }
    const chain = /^:(\S+) (\S+)/.exec(l);
    if (chain) {
      // built-in chains with an ACCEPT policy are what an untouched table has
      if (!(chain[2] === 'ACCEPT' && /^[A-Z]+$/.test(chain[1]))) lines.push(`:${chain[1]} ${chain[2]}`);
      continue;
    }
    lines.push(l.replace(/^\[\d+:\d+\] /, ''));
  }
  return out.sort();
}

export async function snapshot(m: Machine): Promise<Snapshot> {
  const files = (await machineRun(m, ['find', '/', '-xdev', '-path', '/proc', '-prune', '-o', '-print'], { timeoutMs: 60_000 }))
    .split('\n')
    .filter((f) => f && f !== '/' && !VOLATILE.test(f))
    .sort();
  const rules = [
    ...normalizeRules(await machineRun(m, ['iptables-save'])).map((r) => `ipv4 ${r}`),
    ...normalizeRules(await machineRun(m, ['ip6tables-save'])).map((r) => `ipv6 ${r}`),
  ];
  return { files, rules };
}
