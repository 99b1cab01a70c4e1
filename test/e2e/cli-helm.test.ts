// Helm v4 (the helm binary `make deps` unpacks beside kubectl) as a client of hawser, on a netns lab
// of this file's own (hlm, 10.86.0.0/24): the chart `helm create` makes, installed with Helm 4's
// default server-side apply, upgraded, rolled back, its test hook run, and uninstalled. The chart's
// images point at the lab registry (no registry outside is reachable here); nothing else changes.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Cluster, downLab, namespace, type NodeLab, runClient, upLab } from './helpers/node-e2e.ts';
import type { Run } from '../helpers/kubectl.ts';

const NAME = 'hlm';
const SUBNET = '10.86.0.0/24';
const HELM = resolve('.build/bin/helm');
let L: NodeLab;
let dir: string;

test.before(async () => {
  L = await upLab(NAME, SUBNET);
  dir = mkdtempSync(join(tmpdir(), 'hawser-helm-'));
});
test.after.always(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await downLab(NAME, SUBNET);
});

function helm(args: string[], timeoutMs = 300_000): Promise<Run> {
  return runClient(
    HELM,
    args,
    { KUBECONFIG: L.kc, HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data') },
    undefined,
    timeoutMs,
  );
}

async function helmOk(args: string[]): Promise<string> {
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test.serial('[sig-cli] [hawser] helm v4 installs, upgrades, rolls back, tests and uninstalls a chart made by helm create', async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await helmOk(['create', join(dir, 'demo')]);
  // the test hook's image: busybox from Docker Hub, unreachable here; the lab's busybox-based testapp instead
  const hook = join(dir, 'demo/templates/tests/test-connection.yaml');
  writeFileSync(hook, readFileSync(hook, 'utf8').replace(/image: busybox\n/, `image: ${L.testapp}\n`));
  const [repo, tag] = [L.testapp.slice(0, L.testapp.lastIndexOf(':')), L.testapp.slice(L.testapp.lastIndexOf(':') + 1)];
  const ns = ['--namespace', c.ns];

  await helmOk([
    'install',
    'demo',
    join(dir, 'demo'),
    ...ns,
    '--set',
    `image.repository=${repo}`,
    '--set',
    `image.tag=${tag}`,
    '--set',
    'service.port=8080',
    '--wait',
    '--timeout',
    '4m',
  ]);
  const deploy = JSON.parse(await c.ok(['get', 'deployment', 'demo', '-o', 'json', '--show-managed-fields']));
  t.is(deploy.status.readyReplicas, 1);
  // Helm 4 applies server-side: the objects' fields are owned by its field manager through Apply
  t.true(
    deploy.metadata.managedFields.some((f: { manager: string; operation: string }) => f.operation === 'Apply' && /helm/.test(f.manager)),
    JSON.stringify(deploy.metadata.managedFields.map((f: { manager: string; operation: string }) => [f.manager, f.operation])),
  );
  t.regex(await c.ok(['get', 'serviceaccount', 'demo', '-o', 'name']), /serviceaccount\/demo/);

  await helmOk(['upgrade', 'demo', join(dir, 'demo'), ...ns, '--reuse-values', '--set', 'replicaCount=2', '--wait', '--timeout', '4m']);
  t.is(JSON.parse(await c.ok(['get', 'deployment', 'demo', '-o', 'json'])).status.readyReplicas, 2);

  await helmOk(['rollback', 'demo', '1', ...ns, '--wait', '--timeout', '4m']);
  const back = JSON.parse(await c.ok(['get', 'deployment', 'demo', '-o', 'json']));
  t.is(back.spec.replicas, 1);
  const history = JSON.parse(await helmOk(['history', 'demo', ...ns, '-o', 'json'])) as { revision: number; status: string }[];
  t.deepEqual(
    history.map((h) => [h.revision, h.status]),
    [
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'deployed'],
    ],
  );

  // the test hook: a pod that fetches the Service by its DNS name, and succeeds
  const tested = await helm(['test', 'demo', ...ns, '--timeout', '3m']);
  t.is(tested.code, 0, tested.stderr + tested.stdout);
  t.regex(tested.stdout, /TEST SUITE:\s+demo-test-connection[\s\S]*Phase:\s+Succeeded/);

  await helmOk(['uninstall', 'demo', ...ns, '--wait', '--timeout', '3m']);
  t.is((await c.ok(['get', 'deployment,service,serviceaccount', '-l', 'app.kubernetes.io/instance=demo', '-o', 'name'])).trim(), '');
  t.is(JSON.parse(await helmOk(['list', ...ns, '-o', 'json'])).length, 0);
});
