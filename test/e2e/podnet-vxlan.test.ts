// Cross-node pod traffic over the VXLAN backend in a lab (the host-gw backend is what the
// walking-skeleton lab uses): routes go through hawser.vxlan, and pods on different nodes answer.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { CriClient } from '../../agents/kubelet/cri/client.ts';
import { labUp, imageRef } from '../../agents/cli/lab/up.ts';
import { labDown } from '../../agents/cli/lab/down.ts';
import type { Lab } from '../../agents/cli/lab/topology.ts';
import { kubectlJson, kubectlOk } from '../helpers/kubectl.ts';

const opts = { name: 'vx', subnet: '10.81.0.0/24', workers: 2, stateRoot: '/var/lib/hawser-lab', podnetBackend: 'vxlan' as const };
let lab: Lab;

test.before(async () => {
  await labDown({ ...opts });
  lab = await labUp({ ...opts, bin: resolve('dist/hawser.cjs'), repo: resolve('.'), demo: false, quiet: true });
});
test.after.always(async () => {
  await labDown({ ...opts });
});

test('pods on different nodes reach each other over the VXLAN overlay', async (t) => {
  const kc = lab.adminKubeconfig;
  const [n1, n2] = lab.nodes;
  const pod = (name: string, node: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  nodeSelector: {kubernetes.io/hostname: ${node}}\n  containers: [{name: web, image: ${imageRef(lab, 'testapp', '1.0')}}]\n`;
  kubectlOk(kc, ['apply', '-f', '-'], `${pod('vx-a', n1.name)}---\n${pod('vx-b', n2.name)}`);
  kubectlOk(kc, ['wait', '--for=condition=Ready', 'pod/vx-a', 'pod/vx-b', '--timeout=120s']);
  const a = kubectlJson(kc, ['get', 'pod', 'vx-a']);
  const b = kubectlJson(kc, ['get', 'pod', 'vx-b']);
  // the route to the other node's podCIDR leaves through the VXLAN device, not eth0; it follows
  // the peer's VTEP annotation, so allow a bounded 10 s for that update to arrive under load
  const routeGet = () => execFileSync('ip', ['-n', n2.netns, 'route', 'get', a.status.podIP], { encoding: 'utf8' });
  const since = Date.now();
  let routes = routeGet();
  while (!/dev hawser\.vxlan/.test(routes) && Date.now() - since < 10_000) {
    await new Promise((r) => setTimeout(r, 200));
    routes = routeGet();
  }
  t.regex(routes, /dev hawser\.vxlan/, routes);
  const cri = new CriClient(n2.socket, { timeoutMs: 30_000 });
  try {
    const [c] = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': b.metadata.uid } });
    // the overlay's FDB and neighbour entries settle within moments of the nodes' first updates:
    // allow a bounded 20 s for that, and report how long it took
    const started = Date.now();
    let r = await cri.execSync(c.id, ['timeout', '3', 'wget', '-qO-', `http://${a.status.podIP}:8080/`], 10);
    while (r.exitCode !== 0 && Date.now() - started < 20_000) {
      r = await cri.execSync(c.id, ['timeout', '3', 'wget', '-qO-', `http://${a.status.podIP}:8080/`], 10);
    }
    t.log(`answered after ${Date.now() - started} ms`);
    t.is(r.exitCode, 0, r.stderr.toString());
    t.regex(r.stdout.toString(), /vx-a/);
  } finally {
    cri.close();
  }
});
