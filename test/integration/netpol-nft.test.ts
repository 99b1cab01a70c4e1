// NetworkPolicy in nftables mode against the real nft in a throwaway network namespace
// (agents/netpol/nft-enforcer.ts): the first sync replaces the table and removes what iptables mode
// left; a change is one partial transaction and the chains and sets it left unused are deleted;
// a periodic sync that finds the table gone writes it again; a switch back to iptables mode removes the table.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { makeExec } from '../../agents/api/exec.ts';
import type { NpPod, NpPolicy } from '../../agents/netpol/model.ts';
import { removeIptablesPolicy, removeNftPolicy } from '../../agents/netpol/netpol.ts';
import { NftEnforcer } from '../../agents/netpol/nft-enforcer.ts';
import { nftPodChain } from '../../agents/netpol/nft-plan.ts';
import type { NpInput } from '../../agents/netpol/policy-plan.ts';

const ns = `npn-nft-${process.pid}`;
const x = makeExec(ns);
const server: NpPod = { namespace: 'a', name: 'server', ip: '10.0.0.10', node: 'n1', labels: { app: 'server' }, ports: [] };
const client: NpPod = { namespace: 'b', name: 'client', ip: '10.0.1.11', node: 'n2', labels: { app: 'client' }, ports: [] };
const fromB: NpPolicy = {
  namespace: 'a',
  name: 'from-b',
  spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'b' } } }] }] },
};
const input = (policies: NpPolicy[]): NpInput => ({
  node: 'n1',
  pods: [server, client],
  namespaces: [
    { name: 'a', labels: {} },
    { name: 'b', labels: { team: 'b' } },
  ],
  policies,
});

test.before(() => {
  execFileSync('ip', ['netns', 'add', ns]);
  // what iptables mode leaves on a node switched to nftables mode
  execFileSync('ip', ['netns', 'exec', ns, 'ipset', 'restore'], { input: 'create hnp-0123456789abcdef hash:ip family inet\n' });
  execFileSync('ip', ['netns', 'exec', ns, 'iptables-restore', '--noflush'], {
    input: `*filter
:HAWSER-NETPOL - [0:0]
:HAWSER-NPI-0123456789ABCDEF - [0:0]
-A FORWARD -m comment --comment "hawser network policy" -j HAWSER-NETPOL
-A INPUT -m comment --comment "hawser network policy" -j HAWSER-NETPOL
-A HAWSER-NETPOL -d 10.0.0.10/32 -j HAWSER-NPI-0123456789ABCDEF
-A HAWSER-NPI-0123456789ABCDEF -m set --match-set hnp-0123456789abcdef src -j RETURN
-A HAWSER-NPI-0123456789ABCDEF -j REJECT
COMMIT
`,
  });
});
test.after.always(() => {
  execFileSync('ip', ['netns', 'del', ns]);
});

test.serial("full, partial and periodic syncs reach the kernel; iptables mode's rules and sets go", async (t) => {
  const e = new NftEnforcer(x, removeIptablesPolicy);
  const table = () => x('nft', ['list', 'table', 'ip', 'hawser-netpol']);
  t.true((await e.sync(input([fromB]), false)).wrote);
  t.regex(await table(), new RegExp(`10\\.0\\.0\\.10 : jump ${nftPodChain('ingress', server)}`));
  t.notRegex(await x('iptables-save', ['-t', 'filter']), /HAWSER/, "iptables mode's hooks and chains are gone");
  t.is((await x('ipset', ['list', '-n'])).trim(), '', 'and its sets');

  t.false((await e.sync(input([fromB]), false)).wrote, 'nothing changed: no transaction');
  t.deepEqual(e.lastTransactions, []);

  await e.sync(input([]), false);
  t.is(e.lastTransactions.length, 2, 'one partial transaction, then the deletes');
  t.notRegex(e.lastTransactions[0], /delete table/);
  const after = await table();
  t.notRegex(after, /chain i-|set s-/, after);

  await x('nft', ['delete', 'table', 'ip', 'hawser-netpol']);
  await e.sync(input([fromB]), true);
  t.regex(e.lastTransactions[0], /^add table ip hawser-netpol/, 'a periodic sync finds the table gone and writes it whole');
  t.regex(await table(), new RegExp(nftPodChain('ingress', server)));
});

test.serial('back in iptables mode the nftables table goes; without one there is nothing to do', async (t) => {
  await new NftEnforcer(x, removeIptablesPolicy).sync(input([fromB]), false);
  await removeNftPolicy(x);
  await t.throwsAsync(x('nft', ['list', 'table', 'ip', 'hawser-netpol']));
  await t.notThrowsAsync(removeNftPolicy(x));
});
