// kube-proxy's shared netfilter module: the iptables and ipvs backends take the jumps and the
// masquerade rules from it, and no backend imports another backend's files.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Exec } from '../../agents/api/exec.ts';
import { ensureJumps, jumpDeletions, MASQUERADE_RULES, type JumpRule } from '../../agents/kube-proxy/netfilter.ts';
import { staticChains } from '../../agents/kube-proxy/iptables/statics.ts';
import { emptyIpvsState, ipvsIptables } from '../../agents/kube-proxy/ipvs/plan.ts';

const BACKENDS = ['iptables', 'ipvs', 'nftables'];

test('no kube-proxy backend imports another backend', (t) => {
  const crossing: string[] = [];
  for (const b of BACKENDS) {
    const dir = join('agents/kube-proxy', b);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const other of BACKENDS.filter((o) => o !== b)) if (text.includes(`from '../${other}/`)) crossing.push(`${b}/${f} -> ${other}`);
    }
  }
  t.deepEqual(crossing, []);
});

const pre: JumpRule = { table: 'nat', chain: 'PREROUTING', args: '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES' };
const fwd: JumpRule = { table: 'filter', chain: 'FORWARD', args: '-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD' };

/** A kernel whose nat PREROUTING holds our jump and whose FORWARD holds none; records every call. */
function fakeKernel(): { exec: Exec; calls: string[] } {
  const calls: string[] = [];
  const exec: Exec = async (cmd, args, input) => {
    calls.push([cmd, ...args].join(' ') + (input ? `\n${input}` : ''));
    if (args.includes('PREROUTING')) return `-P PREROUTING ACCEPT\n-A PREROUTING ${pre.args}\n`;
    return '-P FORWARD ACCEPT\n';
  };
  return { exec, calls };
}

test('ensureJumps inserts only the missing jumps, first in their chains, in one restore', async (t) => {
  const k = fakeKernel();
  await ensureJumps(k.exec, [pre, fwd]);
  t.deepEqual(
    k.calls.filter((c) => c.startsWith('iptables-restore')),
    [`iptables-restore --noflush -w 5\n*filter\n-I FORWARD 1 ${fwd.args}\nCOMMIT\n`],
  );
});

test('jumpDeletions deletes only the jumps the kernel holds', async (t) => {
  const k = fakeKernel();
  t.deepEqual([...(await jumpDeletions(k.exec, [pre, fwd], 'iptables-legacy'))], [['nat', [`-D PREROUTING ${pre.args}`]]]);
  t.true(k.calls.every((c) => c.startsWith('iptables-legacy -w 5 -t ')));
});

test('both iptables-based backends write the same masquerade rules', (t) => {
  const masq = [...MASQUERADE_RULES['KUBE-POSTROUTING'], ...MASQUERADE_RULES['KUBE-MARK-MASQ']];
  t.deepEqual([...staticChains().nat.values()].flat(), masq);
  const ipvs = ipvsIptables(emptyIpvsState(), { clusterCIDR: '10.244.0.0/16', masqueradeAll: false }).split('\n');
  for (const l of masq) t.true(ipvs.includes(l), l);
});
