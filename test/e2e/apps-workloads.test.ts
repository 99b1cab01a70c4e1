// Workload controllers on a running lab with real kubelets, driven by the real kubectl v1.35,
// named after what the issue asks to see: a Deployment scales 3 -> 10 -> 2; a rolling image
// update keeps replicas - maxUnavailable pods Ready throughout; `rollout undo` returns to the old
// image; a DaemonSet runs one pod per node; a Job of 5 completions with parallelism 2 completes;
// a StatefulSet creates its pods in order; deleting a Deployment removes its ReplicaSets and pods.
// Needs HAWSER_E2E_KUBECONFIG (a lab's admin kubeconfig); skipped when it is not set.
import test from 'ava';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { REGISTRY_HOST } from '../../agents/cli/lab/topology.ts';
import { waitFor } from '../../agents/cli/lab/procs.ts';
import { kubectlJson, kubectlOk } from '../helpers/kubectl.ts';

const kc = process.env.HAWSER_E2E_KUBECONFIG ?? '';
const e2e = kc ? test.serial : test.serial.skip;
const ns = `apps-e2e-${Math.random().toString(36).slice(2, 7)}`;
const IMAGE = `${REGISTRY_HOST}/testapp:1.0`;
const IMAGE2 = `${REGISTRY_HOST}/testapp:e2e-rollout`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

const k = (args: string[], input?: string) => kubectlOk(kc, [...args, '-n', ns], input);
const pods = (sel: string): Loose[] => kubectlJson(kc, ['get', 'pods', '-n', ns, '-l', sel]).items;
const isReady = (p: Loose) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: Loose) => c.type === 'Ready' && c.status === 'True');

/** Polls a synchronous check (kubectl calls) until it holds. */
const until = <T>(what: string, fn: () => T | undefined | false, ms = 120_000) => waitFor(what, async () => fn(), ms, 500);

/** A second tag of the test image in the lab registry (same manifest), for a real image change. */
async function tagSecondImage(): Promise<void> {
  const registry = `http://${kubectlJson(kc, ['get', 'nodes'])
    .items[0].status.addresses.find((a: Loose) => a.type === 'InternalIP')
    .address.replace(/\.\d+$/, '.1')}:5000`;
  const accept = 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
  const got = await fetch(`${registry}/v2/testapp/manifests/1.0`, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
  if (!got.ok) throw new Error(`registry: ${got.status}`);
  const body = Buffer.from(await got.arrayBuffer());
  const put = await fetch(`${registry}/v2/testapp/manifests/e2e-rollout`, {
    method: 'PUT',
    body,
    headers: { 'content-type': got.headers.get('content-type')! },
    signal: AbortSignal.timeout(10_000),
  });
  if (!put.ok) throw new Error(`registry: tagging failed with ${put.status}`);
}

const deploymentYaml = (name: string, replicas: number, extra = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
${extra}  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: ${IMAGE}
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
`;

test.before(() => {
  if (kc) kubectlOk(kc, ['create', 'namespace', ns]);
});
test.after.always(() => {
  if (kc) kubectlOk(kc, ['delete', 'namespace', ns, '--wait=false']);
});

e2e('[sig-apps] [hawser] a Deployment of 3 scales to 10 and to 2', async (t) => {
  k(['apply', '-f', '-'], deploymentYaml('scale', 3));
  k(['rollout', 'status', 'deployment/scale', '--timeout=180s']);
  k(['scale', 'deployment/scale', '--replicas=10']);
  k(['rollout', 'status', 'deployment/scale', '--timeout=180s']);
  t.is(pods('app=scale').filter(isReady).length, 10);
  k(['scale', 'deployment/scale', '--replicas=2']);
  k(['rollout', 'status', 'deployment/scale', '--timeout=180s']);
  await until('2 pods', () => pods('app=scale').length === 2 && pods('app=scale').every(isReady));
  t.is(kubectlJson(kc, ['get', 'rs', '-n', ns, '-l', 'app=scale']).items.length, 1);
});

e2e('[sig-apps] [hawser] a rolling image update keeps replicas - maxUnavailable pods Ready; rollout undo returns to the old image', async (t) => {
  await tagSecondImage();
  k(['apply', '-f', '-'], deploymentYaml('roll', 4, '  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}\n'));
  k(['rollout', 'status', 'deployment/roll', '--timeout=180s']);
  const api = new ApiClient(loadKubeconfig(kc), 'apps-e2e');
  const seen = new Map<string, Loose>();
  let minReady = Infinity;
  const abort = new AbortController();
  for (const p of pods('app=roll')) seen.set(p.metadata.name, p);
  const watching = api
    .watch<Loose>(
      `/api/v1/namespaces/${ns}/pods`,
      { labelSelector: 'app=roll' },
      (e) => {
        if (e.type === 'DELETED') seen.delete(e.object.metadata.name);
        else if (e.type !== 'BOOKMARK' && e.type !== 'ERROR') seen.set(e.object.metadata.name, e.object);
        minReady = Math.min(minReady, [...seen.values()].filter(isReady).length);
      },
      abort.signal,
    )
    .catch(() => undefined);
  k(['set', 'image', 'deployment/roll', `web=${IMAGE2}`]);
  t.regex(k(['rollout', 'status', 'deployment/roll', '--timeout=300s']), /successfully rolled out/);
  abort.abort();
  await watching;
  t.true(minReady >= 3, `at least 4 - 1 pods Ready throughout (lowest seen: ${minReady})`);
  await until('only new pods', () => pods('app=roll').length === 4 && pods('app=roll').every((p) => p.spec.containers[0].image === IMAGE2));
  k(['rollout', 'undo', 'deployment/roll']);
  t.regex(k(['rollout', 'status', 'deployment/roll', '--timeout=300s']), /successfully rolled out/);
  await until('old image back', () => pods('app=roll').length === 4 && pods('app=roll').every((p) => p.spec.containers[0].image === IMAGE && isReady(p)));
  t.regex(k(['rollout', 'history', 'deployment/roll']), /2\s+<none>\s*\n3\s+<none>/);
});

e2e('[sig-apps] [hawser] a DaemonSet runs one pod per node', async (t) => {
  k(
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {terminationGracePeriodSeconds: 2, containers: [{name: a, image: ${IMAGE}}]}
`,
  );
  k(['rollout', 'status', 'daemonset/agent', '--timeout=180s']);
  const nodes = kubectlJson(kc, ['get', 'nodes'])
    .items.map((n: Loose) => n.metadata.name)
    .sort();
  const onNodes = await until('a ready pod per node', () => {
    const ps = pods('app=agent').filter(isReady);
    return ps.length === nodes.length ? ps.map((p) => p.spec.nodeName).sort() : undefined;
  });
  t.deepEqual(onNodes, nodes);
});

e2e('[sig-apps] [hawser] a Job of 5 completions with parallelism 2 completes', async (t) => {
  k(
    ['apply', '-f', '-'],
    `apiVersion: batch/v1
kind: Job
metadata: {name: work, namespace: ${ns}}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: w, image: ${IMAGE}, command: [sh, -c, 'sleep 2']}]
`,
  );
  k(['wait', '--for=condition=complete', 'job/work', '--timeout=300s']);
  const job = kubectlJson(kc, ['get', 'job', 'work', '-n', ns]);
  t.is(job.status.succeeded, 5);
  const ps = pods('job-name=work');
  t.is(ps.filter((p) => p.status.phase === 'Succeeded').length, 5);
  // never more than 2 ran at once: no three run windows overlap
  const spans = ps.map((p) => [Date.parse(p.status.startTime), Date.parse(p.status.containerStatuses[0].state.terminated.finishedAt)]);
  const overlapping = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
  t.true(overlapping <= 2, `at most parallelism pods at once (saw ${overlapping})`);
});

e2e('[sig-apps] [hawser] a StatefulSet creates its pods in order', async (t) => {
  k(
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${ns}}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - {name: d, image: ${IMAGE}, ports: [{containerPort: 8080}], readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}}
`,
  );
  k(['rollout', 'status', 'statefulset/db', '--timeout=300s']);
  const ps = pods('app=db').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  t.deepEqual(
    ps.map((p) => p.metadata.name),
    ['db-0', 'db-1', 'db-2'],
  );
  const readyAt = (p: Loose) => Date.parse(p.status.conditions.find((c: Loose) => c.type === 'Ready').lastTransitionTime);
  for (let i = 1; i < 3; i++) t.true(Date.parse(ps[i].metadata.creationTimestamp) >= readyAt(ps[i - 1]), `db-${i} after db-${i - 1} was Ready`);
});

e2e('[sig-apps] [hawser] deleting a Deployment removes its ReplicaSets and pods', async (t) => {
  k(['apply', '-f', '-'], deploymentYaml('gone', 2));
  k(['rollout', 'status', 'deployment/gone', '--timeout=180s']);
  t.is(kubectlJson(kc, ['get', 'rs', '-n', ns, '-l', 'app=gone']).items.length, 1);
  k(['delete', 'deployment', 'gone']);
  await until('ReplicaSets and pods gone', () => !kubectlJson(kc, ['get', 'rs', '-n', ns, '-l', 'app=gone']).items.length && !pods('app=gone').length);
  t.pass();
});
