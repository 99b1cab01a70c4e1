// kubectl debug on a netns lab of this file's own (dbg, 10.85.0.0/24): a debugging container
// started with --target sees the target container's processes (shared pid namespace).
// Not here yet: `kubectl debug -i` (kubectl exits 0 but shows only its "Targeting container"
// notice), and `kubectl proxy` to a Service (the lab's API server, in the root network namespace,
// has no route to the nodes' pod CIDRs); the proxy subresources are tested against a real API
// server in test/integration/apiserver-proxy.test.ts.
import test from 'ava';
import { Cluster, downLab, namespace, type NodeLab, upLab } from './helpers/node-e2e.ts';

const NAME = 'dbg';
const SUBNET = '10.85.0.0/24';
let L: NodeLab;

test.before(async () => {
  L = await upLab(NAME, SUBNET);
});
test.after.always(async () => {
  await downLab(NAME, SUBNET);
});

test.serial('[sig-cli] [hawser] kubectl debug --target starts an ephemeral container that sees the target\'s processes', async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await c.ok(['run', 'app', `--image=${L.testapp}`, '--restart=Never', '--', 'sh', '-c', 'exec sleep 3601']);
  await c.waitRunning('app', 120_000);
  const r = await c.run(['debug', 'app', `--image=${L.testapp}`, '--target=app', '-c', 'dbg', '--', 'ps']);
  t.is(r.code, 0, r.stderr);
  const p = await c.waitPod('app', 'debug container finished', (x) => x.status?.ephemeralContainerStatuses?.[0]?.state?.terminated, 120_000);
  t.is(p.status.ephemeralContainerStatuses[0].name, 'dbg');
  t.regex(await c.ok(['logs', 'app', '-c', 'dbg']), /sleep 3601/, 'ps in the ephemeral container shows the target\'s process');
});
