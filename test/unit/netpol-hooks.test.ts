// The iptables-mode hooks of NetworkPolicy enforcement (agents/netpol/netpol.ts ensureHooks): FORWARD
// and INPUT jump to HAWSER-NETPOL first. Checking them is podnet's idle work every 30 s, and each
// iptables run is a process started: both hooks are read from one listing (issue #20, idle CPU), and
// only a hook that is not first is put back.
import test from 'ava';
import type { Exec } from '../../agents/api/exec.ts';
import { ensureHooks, HOOK_COMMENT } from '../../agents/netpol/netpol.ts';
import { TOP_CHAIN } from '../../agents/netpol/plan.ts';

const ours = (hook: string) => `-A ${hook} -m comment --comment "${HOOK_COMMENT}" -j ${TOP_CHAIN}`;
const fakeIptables = (listing: string) => {
  const calls: string[][] = [];
  const x: Exec = async (cmd, args) => {
    calls.push([cmd, ...args]);
    return args[0] === '-S' ? listing : '';
  };
  return { x, calls };
};

test('hooks in place: one iptables listing, no change', async (t) => {
  const { x, calls } = fakeIptables(
    [
      '-P INPUT ACCEPT',
      '-P FORWARD ACCEPT',
      '-N KUBE-FORWARD',
      ours('INPUT'),
      '-A INPUT -j KUBE-FIREWALL',
      ours('FORWARD'),
      '-A FORWARD -j KUBE-FORWARD',
      '',
    ].join('\n'),
  );
  await ensureHooks(x);
  t.deepEqual(calls, [['iptables', '-S']]);
});

test('a hook that another rule displaced is moved back to the top; the other is left alone', async (t) => {
  const { x, calls } = fakeIptables(['-P INPUT ACCEPT', '-P FORWARD ACCEPT', ours('INPUT'), '-A FORWARD -j KUBE-FORWARD', ours('FORWARD'), ''].join('\n'));
  await ensureHooks(x);
  t.deepEqual(calls, [
    ['iptables', '-S'],
    ['iptables', '-D', 'FORWARD', '-m', 'comment', '--comment', HOOK_COMMENT, '-j', TOP_CHAIN],
    ['iptables', '-I', 'FORWARD', '1', '-m', 'comment', '--comment', HOOK_COMMENT, '-j', TOP_CHAIN],
  ]);
});
