// NetworkPolicy enforcement (agents/netpol, inside every podnet) against a real API server, with the
// kernel tools recorded instead of run: a pod's status writes that change nothing the policy plan
// reads (conditions, container states: several per pod start) start no sync and no process, while a
// pod getting its address or new labels still reaches the kernel. Issue #26 measured two
// `iptables -S` per status write on every node, about 12 processes per pod started.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { logger } from '../../agents/api/log.ts';
import { core, resourcePath } from '../../agents/api/paths.ts';
import { HOOK_COMMENT, startNetpol } from '../../agents/netpol/netpol.ts';
import { type Cluster, startCluster, until } from './_apiserver-kit.ts';

let c: Cluster;
test.before(async () => {
  c = await startCluster('sqlite');
});
test.after.always(async () => {
  await c?.close();
});

interface Call {
  cmd: string;
  args: string[];
  input?: string;
}

test('status writes that leave the plan as it was run no iptables; an address or a label change is applied', async (t) => {
  const calls: Call[] = [];
  const x = async (cmd: string, args: string[], input?: string) => {
    calls.push({ cmd, args, input });
    // the hooks are already first, so a check only lists them
    if (cmd === 'iptables' && args[0] === '-S')
      return ['FORWARD', 'INPUT'].map((h) => `-P ${h} ACCEPT\n-A ${h} -m comment --comment "${HOOK_COMMENT}" -j HAWSER-NETPOL\n`).join('');
    return '';
  };
  const api = new ApiClient(loadKubeconfig(c.admin), 'netpol-test');
  const np = startNetpol({ nodeName: 'n1', api, log: logger('netpol-test'), x });
  t.teardown(() => np.stop());
  const listings = () => calls.filter((k) => k.cmd === 'iptables' && k.args[0] === '-S').length;
  const applied = (ip: string) => calls.some((k) => k.cmd === 'ipset' && (k.input ?? '').includes(ip));

  await api.create(resourcePath({ group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies', namespace: 'default' }), {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'from-y' },
    spec: { podSelector: { matchLabels: { app: 'x' } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: 'y' } } }] }] },
  });
  const pod = (name: string, app: string): V1Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] },
  });
  const setStatus = (name: string, status: V1Pod['status']) => api.patch(`${core('pods', 'default', name)}/status`, { status });
  await api.create(core('pods', 'default'), pod('x1', 'x'));
  await api.create(core('pods', 'default'), pod('y1', 'y'));
  await setStatus('x1', { phase: 'Pending', podIP: '10.244.0.10', podIPs: [{ ip: '10.244.0.10' }] });
  await until('the policy for x1 applied', async () => listings() >= 1 && calls.some((k) => (k.input ?? '').includes('10.244.0.10')), 15_000);
  await new Promise((r) => setTimeout(r, 500));
  const before = listings();

  // a pod start's status writes: conditions and container states, nothing the plan reads
  for (let i = 0; i < 5; i++) {
    await setStatus('x1', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: i % 2 ? 'True' : 'False' }],
      podIP: '10.244.0.10',
      podIPs: [{ ip: '10.244.0.10' }],
    });
  }
  // y1 gets an address: the ipset of x1's allowed peers changes, so that sync does reach the kernel
  await setStatus('y1', { phase: 'Pending', podIP: '10.244.0.11', podIPs: [{ ip: '10.244.0.11' }] });
  await until('y1 in the peer set', async () => applied('10.244.0.11'), 15_000);
  await new Promise((r) => setTimeout(r, 500));
  // the y1 sync applied a change and checked the hooks once (one listing); the status writes none
  t.is(
    listings() - before,
    1,
    calls
      .slice(-20)
      .map((k) => `${k.cmd} ${k.args.join(' ')}`)
      .join('\n'),
  );
});
