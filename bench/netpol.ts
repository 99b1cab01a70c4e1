// NetworkPolicy enforcement at 1,000 policies and 5,000 pods (rules rendered, no real pods): the
// planner's full plan, then one policy change from informer state to the applied restore in a
// throwaway network namespace (plan + steps + ipset restore + iptables-restore --noflush), beside a
// raw iptables-restore of the same full rule set as the anchor. Run as root: `make bench-netpol`.
import { execFileSync } from 'node:child_process';
import type { NpNamespace, NpPod, NpPolicy } from '../agents/netpol/model.ts';
import { plan } from '../agents/netpol/plan.ts';
import { steps } from '../agents/netpol/restore.ts';

const NODE = 'n0';
const namespaces: NpNamespace[] = Array.from({ length: 50 }, (_, i) => ({ name: `ns${i}`, labels: { team: `t${i % 5}` } }));
const pods: NpPod[] = Array.from({ length: 5000 }, (_, i) => ({
  namespace: `ns${i % 50}`,
  name: `p${i}`,
  ip: `10.244.${Math.floor(i / 250)}.${(i % 250) + 2}`,
  node: `n${i % 20}`,
  labels: { app: `a${i % 100}`, role: i % 2 ? 'client' : 'server' },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
}));
const policy = (i: number, port: number): NpPolicy => ({
  namespace: `ns${i % 50}`,
  name: `np${i}`,
  spec: {
    podSelector: { matchLabels: { app: `a${i % 100}` } },
    ingress: [
      {
        from: [{ namespaceSelector: { matchLabels: { team: `t${i % 5}` } }, podSelector: { matchLabels: { role: 'client' } } }],
        ports: [{ port: 'http' }, { port, endPort: port + 100 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.96.0.0/12'] } }] }],
  },
});
const policies = Array.from({ length: 1000 }, (_, i) => policy(i, 9000));

const ns = `hnp-bench-${process.pid}`;
const inNs = (cmd: string, args: string[], input?: string) => execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { input, maxBuffer: 1 << 28 });
const ms = (t0: number) => Math.round(performance.now() - t0);

execFileSync('ip', ['netns', 'add', ns]);
try {
  let t0 = performance.now();
  const first = plan({ node: NODE, policies, pods, namespaces });
  const planMs = ms(t0);
  const full = steps({ chains: [], sets: [] }, first);
  inNs('ipset', ['restore', '-exist'], full.sets);
  t0 = performance.now();
  inNs('iptables-restore', ['--noflush'], full.rules);
  const rawMs = ms(t0);
  // one policy selecting local pods changes its port range
  const changed = policies.map((p, i) => (i === 0 ? policy(0, 9500) : p));
  t0 = performance.now();
  const next = plan({ node: NODE, policies: changed, pods, namespaces });
  const s = steps({ plan: first }, next);
  if (s.sets) inNs('ipset', ['restore', '-exist'], s.sets);
  if (s.rules) inNs('iptables-restore', ['--noflush'], s.rules);
  const changeMs = ms(t0);
  const rules = [...first.chains.values()].reduce((n, r) => n + r.length, 0);
  console.log(`chains ${first.chains.size}, rules ${rules}, ipsets ${first.sets.size}; full plan ${planMs} ms; raw iptables-restore of all rules ${rawMs} ms`);
  console.log(
    `RESULT policy change to applied restore ${changeMs} ms (${s.rules.split('\n').filter((l) => l.startsWith(':')).length} chains rewritten) vs raw full restore ${rawMs} ms`,
  );
} finally {
  execFileSync('ip', ['netns', 'del', ns]);
}
