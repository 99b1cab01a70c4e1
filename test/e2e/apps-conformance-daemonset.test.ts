// [sig-apps] Daemon set conformance tests, mirrored from upstream's test/e2e/apps/daemon_set.go with
// the same steps and checks. upstream's webserver (httpd) pods are the testapp image (busybox httpd).
// The complex-daemon test labels a node "daemonset-color" as upstream's does and removes the label
// afterwards, pass or fail. Not mirrored here: the RollingUpdate test, which reads the DaemonSet's
// ControllerRevisions (history), a resource hawser does not serve yet.
import { conformance, type Ctx, readyNodes } from '../conformance/fixture.ts';
import { collectionPath, deleteCollection, getRaw, isReady, type Obj, patch, podsOf, updateWithRetries, waitObj } from './helpers/apps-e2e.ts';

const it = conformance('daemonsets', { timeoutMs: 300_000 });
const NAME = 'daemon-set';
const LABEL = { 'daemonset-name': NAME };
const SELECTOR = `daemonset-name=${NAME}`;
const COLOR = 'daemonset-color';
const dsPath = (c: Ctx, name = '') => `${collectionPath('apps/v1', c.ns, 'daemonsets')}${name ? `/${name}` : ''}`;

/** upstream's newDaemonSetWithLabel (e2edaemonset.NewDaemonSet): container "app", port 9376. */
const newDaemonSetWithLabel = (c: Ctx): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: NAME, labels: LABEL },
  spec: {
    selector: { matchLabels: LABEL },
    template: {
      metadata: { labels: LABEL },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: c.env.image, ports: [{ containerPort: 9376 }] }] },
    },
  },
});
const newDaemonSet = (c: Ctx): Obj => {
  const ds = newDaemonSetWithLabel(c);
  delete ds.metadata.labels;
  return ds;
};

/** Ready, schedulable nodes whose labels satisfy the template's nodeSelector. */
function nodesFor(c: Ctx, ds: Obj): string[] {
  const sel: Record<string, string> = ds.spec.template.spec.nodeSelector ?? {};
  return readyNodes(c.kc)
    .filter((n) => Object.entries(sel).every(([k, v]) => n.metadata.labels?.[k] === v))
    .map((n) => n.metadata.name)
    .sort();
}

/** upstream's CheckDaemonPodOnNodes: exactly one available daemon pod on each of `nodes`, none elsewhere. */
function podsOnExactly(c: Ctx, nodes: string[]): boolean {
  const pods = podsOf(c.k, SELECTOR);
  const on = pods.map((p) => p.spec.nodeName).sort();
  return JSON.stringify(on) === JSON.stringify([...nodes].sort()) && pods.every((p) => isReady(p) && p.status.phase === 'Running');
}
const waitOnNodes = (c: Ctx, nodes: () => string[], what: string) => waitObj(c.k, dsPath(c, NAME), what, () => podsOnExactly(c, nodes()), 120_000);
const waitOnAllNodes = (c: Ctx) => waitOnNodes(c, () => nodesFor(c, getRaw(c.k, dsPath(c, NAME))), 'daemon pods on every node of the cluster');

/** upstream's CheckDaemonStatus: desired == current scheduled == ready (== available). */
const checkDaemonStatus = (c: Ctx) =>
  waitObj(
    c.k,
    dsPath(c, NAME),
    'the daemon set status to add up',
    (o) => {
      const s = o.status ?? {};
      return (
        s.desiredNumberScheduled > 0 &&
        s.desiredNumberScheduled === s.currentNumberScheduled &&
        s.desiredNumberScheduled === s.numberReady &&
        s.numberReady === s.numberAvailable
      );
    },
    60_000,
  );

it('[sig-apps] Daemon set [Serial] should run and stop simple daemon [Conformance]', async (t, c) => {
  c.k.create(newDaemonSet(c));
  await waitOnAllNodes(c);
  await checkDaemonStatus(c);
  const [pod] = podsOf(c.k, SELECTOR);
  c.k.ok(['delete', 'pod', pod.metadata.name, '--wait=false']);
  await waitObj(
    c.k,
    dsPath(c, NAME),
    'the daemon pod revived',
    () => !podsOf(c.k, SELECTOR, true).some((p) => p.metadata.uid === pod.metadata.uid) && podsOnExactly(c, nodesFor(c, getRaw(c.k, dsPath(c, NAME)))),
    120_000,
  );
  t.pass();
});

it('[sig-apps] Daemon set [Serial] should run and stop complex daemon [Conformance]', async (t, c) => {
  const [node] = readyNodes(c.kc).map((n) => n.metadata.name);
  const setColor = (v: string | null) => c.kc.ok(['label', 'node', node, v === null ? `${COLOR}-` : `${COLOR}=${v}`, '--overwrite']);
  t.teardown(() => {
    c.kc.run(['label', 'node', node, `${COLOR}-`]);
  });
  const ds = newDaemonSet(c);
  ds.spec.template.spec.nodeSelector = { [COLOR]: 'blue' };
  c.k.create(ds);
  await waitOnNodes(c, () => [], 'daemon pods running on no nodes');

  setColor('blue');
  await waitOnNodes(c, () => [node], `a daemon pod on ${node}, labelled blue`);
  await checkDaemonStatus(c);

  setColor('green');
  await waitOnNodes(c, () => [], 'the daemon pod unscheduled from the green node');

  patch(c.k, 'ds', NAME, 'strategic', { spec: { template: { spec: { nodeSelector: { [COLOR]: 'green' } } }, updateStrategy: { type: 'RollingUpdate' } } });
  await waitOnNodes(c, () => [node], `a daemon pod on ${node}, now selected green`);
  await checkDaemonStatus(c);
  t.pass();
});

it('[sig-apps] Daemon set [Serial] should retry creating failed daemon pods [Conformance]', async (t, c) => {
  c.k.create(newDaemonSet(c));
  await waitOnAllNodes(c);
  await checkDaemonStatus(c);
  const [pod] = podsOf(c.k, SELECTOR);
  // set a daemon pod's phase to Failed through /status (an unconditional UpdateStatus)
  await updateWithRetries(
    c.k,
    `${collectionPath('v1', c.ns, 'pods')}/${pod.metadata.name}`,
    (o) => {
      o.metadata.resourceVersion = '';
      o.status.phase = 'Failed';
    },
    '/status',
  );
  await waitObj(
    c.k,
    dsPath(c, NAME),
    'the failed daemon pod replaced',
    () =>
      podsOf(c.k, SELECTOR).filter((p) => p.metadata.uid !== pod.metadata.uid).length >= nodesFor(c, getRaw(c.k, dsPath(c, NAME))).length &&
      podsOf(c.k, SELECTOR)
        .filter((p) => p.metadata.uid !== pod.metadata.uid)
        .every(isReady),
    120_000,
  );
  await waitObj(
    c.k,
    collectionPath('v1', c.ns, 'pods'),
    'the failed daemon pod completely deleted',
    (l) => !(l.items as Obj[]).some((p) => p.metadata.uid === pod.metadata.uid),
    120_000,
  );
  t.pass();
});

it('[sig-apps] Daemon set [Serial] should list and delete a collection of DaemonSets [Conformance]', async (t, c) => {
  c.k.create(newDaemonSetWithLabel(c));
  await waitOnAllNodes(c);
  await checkDaemonStatus(c);
  t.is(getRaw(c.kc, `/apis/apps/v1/daemonsets?labelSelector=${encodeURIComponent(SELECTOR)}`).items.length, 1, 'filtered list');
  deleteCollection(c.k, dsPath(c), SELECTOR);
  t.is(getRaw(c.kc, `/apis/apps/v1/daemonsets?labelSelector=${encodeURIComponent(SELECTOR)}`).items.length, 0, 'filtered list should have no daemonset');
});

it('[sig-apps] Daemon set [Serial] should verify changes to a daemon set status [Conformance]', async (t, c) => {
  c.k.create(newDaemonSetWithLabel(c));
  await waitOnAllNodes(c);
  await checkDaemonStatus(c);
  t.is(getRaw(c.k, `${dsPath(c, NAME)}/status`).kind, 'DaemonSet');
  await updateWithRetries(
    c.k,
    dsPath(c, NAME),
    (o) => {
      o.status.conditions = [...(o.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
    },
    '/status',
  );
  await waitObj(
    c.k,
    dsPath(c, NAME),
    'the StatusUpdate condition',
    (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusUpdate' && x.reason === 'E2E' && x.message === 'Set from e2e test'),
    30_000,
  );
  patch(c.k, 'ds', NAME, 'merge', { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, 'status');
  await waitObj(c.k, dsPath(c, NAME), 'the StatusPatched condition', (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusPatched'), 30_000);
  t.pass();
});
