// [sig-apps] Deployment conformance tests, mirrored from upstream's test/e2e/apps/deployment.go with
// the same steps and checks. upstream's "webserver" (httpd) pods are the testapp image as it is
// (busybox httpd on 8080); its "agnhost" pods are testapp running httpd by an explicit command in
// a container named agnhost, so that the two pod templates differ as upstream's do. upstream's
// watches for an expected state are polls of the object here.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import { agnhost, webserver } from './helpers/apps-e2e.ts';
import {
  collectionPath,
  deleteCollection,
  deploymentComplete,
  getRaw,
  newRS,
  type Obj,
  owners,
  patch,
  podsOf,
  putRaw,
  updateWithRetries,
  waitGone,
  waitObj,
  waitPodsReady,
} from './helpers/apps-e2e.ts';

const it = conformance('deployment', { timeoutMs: 300_000 });
const deps = (c: Ctx) => collectionPath('apps/v1', c.ns, 'deployments');
const rss = (c: Ctx) => collectionPath('apps/v1', c.ns, 'replicasets');

/** upstream's e2edeployment.NewDeployment: one container named after the image name. */
function newDeployment(name: string, replicas: number, podLabels: Record<string, string>, container: Obj, strategy: 'RollingUpdate' | 'Recreate'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: podLabels },
    spec: {
      replicas,
      selector: { matchLabels: podLabels },
      strategy: { type: strategy },
      template: { metadata: { labels: podLabels }, spec: { terminationGracePeriodSeconds: 1, containers: [container] } },
    },
  };
}

const waitComplete = (c: Ctx, name: string, timeoutMs = 180_000) =>
  waitObj(c.k, `${deps(c)}/${name}`, `deployment ${name} complete`, deploymentComplete, timeoutMs);

/** The deployment's ReplicaSets (controlled by it), split as upstream's GetAllReplicaSets: the new one has the template. */
function replicaSetsOf(c: Ctx, d: Obj): { newRS?: Obj; old: Obj[] } {
  const mine = (getRaw(c.k, rss(c)).items as Obj[]).filter((rs) => owners(rs).some((o) => o.controller && o.uid === d.metadata.uid));
  const tmpl = JSON.stringify(d.spec.template.spec);
  const newRS = mine.find((rs) => JSON.stringify(rs.spec.template.spec) === tmpl);
  return { newRS, old: mine.filter((rs) => rs !== newRS) };
}

it('[sig-apps] Deployment should run the lifecycle of a Deployment [Conformance]', async (t, c) => {
  const name = 'test-deployment';
  const path = `${deps(c)}/${name}`;
  const staticSel = 'test-deployment-static=true';
  const d = newDeployment(name, 1, { 'test-deployment-static': 'true' }, { name, image: c.env.image }, 'RollingUpdate');
  d.spec.template.spec.terminationGracePeriodSeconds = 1;
  c.k.create(d);
  await waitObj(
    c.k,
    path,
    'the Deployment with 1 ReadyReplica',
    (o) => o.metadata.labels['test-deployment-static'] === 'true' && o.status?.readyReplicas === 1,
  );

  // patching the Deployment (strategic merge): labels, 2 replicas, a new image and grace period
  patch(c.k, 'deployment', name, 'strategic', {
    metadata: { labels: { 'test-deployment': 'patched' } },
    spec: { replicas: 2, template: { spec: { terminationGracePeriodSeconds: 2, containers: [{ name, image: c.env.altImage }] } } },
  });
  await waitObj(
    c.k,
    path,
    'replicas to scale to 2 on the patched template',
    (o) =>
      o.status?.readyReplicas === 2 &&
      o.status?.updatedReplicas === 2 &&
      !(o.status?.unavailableReplicas > 0) &&
      o.spec.template.spec.containers[0].image === c.env.altImage &&
      o.spec.template.spec.terminationGracePeriodSeconds === 2,
  );

  const listed = getRaw(c.kc, `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent(staticSel)}`).items as Obj[];
  t.true(
    listed.some((o) => o.metadata.name === name && o.metadata.namespace === c.ns && o.metadata.labels['test-deployment-static'] === 'true'),
    'the Deployment is in the cluster-wide list by label',
  );

  // updating the Deployment (a PUT of the first object with new labels, image and 1 replica)
  await updateWithRetries(c.k, path, (o) => {
    o.metadata.labels = { ...o.metadata.labels, 'test-deployment': 'updated' };
    o.spec.template.spec.containers[0].image = c.env.image;
    o.spec.replicas = 1;
  });
  let got = getRaw(c.k, `${path}/status`);
  t.is(got.spec.template.spec.containers[0].image, c.env.image, 'GET /status shows the updated image');
  t.is(got.metadata.labels['test-deployment'], 'updated', 'GET /status shows the updated labels');
  await waitObj(
    c.k,
    path,
    'the updated Deployment to have 1 ready replica',
    (o) => o.status?.readyReplicas === 1 && o.status?.updatedReplicas === 1 && !(o.status?.unavailableReplicas > 0),
  );

  // patching the DeploymentStatus (strategic merge on /status): readyReplicas 0, availableReplicas 1
  patch(c.k, 'deployment', name, 'strategic', { status: { readyReplicas: 0, availableReplicas: 1 } }, 'status');
  got = getRaw(c.k, `${path}/status`);
  t.is(got.spec.template.spec.containers[0].image, c.env.image);
  t.is(got.metadata.labels['test-deployment'], 'updated');
  // the controller puts the real status back
  await waitObj(
    c.k,
    path,
    'the controller to restore 1 ready replica',
    (o) =>
      o.status?.readyReplicas === 1 &&
      o.status?.updatedReplicas === 1 &&
      !(o.status?.unavailableReplicas > 0) &&
      o.spec.template.spec.containers[0].image === c.env.image,
  );

  deleteCollection(c.k, deps(c), staticSel);
  await waitGone(c.k, path, 'the Deployment deleted by DeleteCollection');
});

it('[sig-apps] Deployment should validate Deployment Status endpoints [Conformance]', async (t, c) => {
  const name = `test-deployment-${Math.random().toString(36).slice(2, 7)}`;
  const path = `${deps(c)}/${name}`;
  c.k.create(newDeployment(name, 1, { name: 'httpd', e2e: 'testing' }, webserver(c), 'RollingUpdate'));
  await waitObj(c.k, path, 'revision 1', (o) => o.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  await waitComplete(c, name);

  const status = getRaw(c.k, `${path}/status`);
  t.is(status.kind, 'Deployment');
  t.true(Array.isArray(status.status.conditions), 'GET /status carries the conditions');

  const updated = await updateWithRetries(
    c.k,
    path,
    (o) => {
      o.status.conditions = [...(o.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
    },
    '/status',
  );
  t.true(
    updated.status.conditions.some((x: Obj) => x.type === 'StatusUpdate'),
    'UpdateStatus returns the new condition',
  );
  await waitObj(
    c.k,
    path,
    'the StatusUpdate condition',
    (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusUpdate' && x.reason === 'E2E' && x.message === 'Set from e2e test'),
    30_000,
  );

  const patched = patch(c.k, 'deployment', name, 'merge', { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, 'status');
  t.true(
    patched.status.conditions.some((x: Obj) => x.type === 'StatusPatched'),
    'the merge patch of /status returns the condition',
  );
  await waitObj(c.k, path, 'the StatusPatched condition', (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusPatched'), 30_000);
});

it('[sig-apps] Deployment RollingUpdateDeployment should delete old pods and create new ones [Conformance]', async (t, c) => {
  const rsRevision = '3546343826724305832';
  c.k.create(
    newRS('test-rolling-update-controller', 1, { name: 'sample-pod', pod: 'httpd' }, webserver(c), { 'deployment.kubernetes.io/revision': rsRevision }),
  );
  await waitPodsReady(c.k, 'name=sample-pod', 1);
  const name = 'test-rolling-update-deployment';
  c.k.create(newDeployment(name, 1, { name: 'sample-pod' }, agnhost(c), 'RollingUpdate'));
  // the deployment takes the next revision after the adopted replica set's
  await waitObj(
    c.k,
    `${deps(c)}/${name}`,
    'revision 3546343826724305833',
    (o) => o.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3546343826724305833',
  );
  const d = await waitComplete(c, name);
  const { newRS: fresh, old } = replicaSetsOf(c, d);
  t.truthy(fresh, "a new ReplicaSet of the deployment's template");
  t.is(fresh?.spec.template.spec.containers[0].name, 'agnhost');
  t.is(old.length, 1, 'one old ReplicaSet: the adopted one');
  t.is(old[0]?.metadata.name, 'test-rolling-update-controller');
});

it('[sig-apps] Deployment RecreateDeployment should delete old pods and create new ones [Conformance]', async (t, c) => {
  const name = 'test-recreate-deployment';
  const path = `${deps(c)}/${name}`;
  c.k.create(newDeployment(name, 1, { name: 'sample-pod-3' }, agnhost(c), 'Recreate'));
  await waitObj(c.k, path, 'revision 1', (o) => o.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  await waitComplete(c, name);
  await updateWithRetries(c.k, path, (o) => {
    o.spec.template.spec.containers[0] = webserver(c);
  });
  // upstream's watchRecreateDeployment: new pods never run alongside old ones
  let mixed = '';
  const d = await waitObj(
    c.k,
    path,
    'the recreated deployment complete at revision 2',
    (o) => {
      const s = o.status ?? {};
      if ((s.updatedReplicas ?? 0) > 0 && s.replicas !== s.updatedReplicas) mixed ||= `replicas ${s.replicas}, updated ${s.updatedReplicas}`;
      return o.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2' && deploymentComplete(o);
    },
    180_000,
  );
  t.is(mixed, '', 'deployment never ran new pods alongside old pods');
  t.is(d.spec.template.spec.containers[0].name, 'httpd');
  const pods = podsOf(c.k, 'name=sample-pod-3');
  t.true(
    pods.every((p) => p.spec.containers[0].name === 'httpd'),
    'only new pods remain',
  );
});

it('[sig-apps] Deployment deployment should delete old replica sets [Conformance]', async (t, c) => {
  c.k.create(newRS('test-cleanup-controller', 1, { name: 'cleanup-pod', pod: 'httpd' }, webserver(c)));
  await waitPodsReady(c.k, 'name=cleanup-pod', 1);
  const name = 'test-cleanup-deployment';
  const d = newDeployment(name, 1, { name: 'cleanup-pod' }, agnhost(c), 'RollingUpdate');
  d.spec.revisionHistoryLimit = 0;
  c.k.create(d);
  // upstream's WaitForDeploymentOldRSsNum(0): the adopted ReplicaSet is old and removed
  const done = await waitObj(c.k, `${deps(c)}/${name}`, 'the deployment complete', deploymentComplete, 180_000);
  await waitObj(
    c.k,
    rss(c),
    'no old ReplicaSets',
    () => replicaSetsOf(c, done).old.length === 0 && !(getRaw(c.k, rss(c)).items as Obj[]).some((rs) => rs.metadata.name === 'test-cleanup-controller'),
    120_000,
  );
  t.truthy(replicaSetsOf(c, done).newRS);
});

it('[sig-apps] Deployment Deployment should have a working scale subresource [Conformance]', async (t, c) => {
  const name = 'test-new-deployment';
  const path = `${deps(c)}/${name}`;
  c.k.create(newDeployment(name, 1, { name: 'httpd' }, webserver(c), 'RollingUpdate'));
  await waitObj(c.k, path, 'revision 1', (o) => o.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
  await waitComplete(c, name);

  const scale = getRaw(c.k, `${path}/scale`);
  t.is(scale.kind, 'Scale');
  t.is(scale.spec.replicas, 1, 'getting scale subresource');
  scale.spec.replicas = 2;
  t.is(putRaw(c.k, `${path}/scale`, scale).spec.replicas, 2, 'updating a scale subresource');
  t.is(getRaw(c.k, path).spec.replicas, 2, 'the deployment spec follows the scale update');

  patch(c.k, 'deployment', name, 'merge', { spec: { replicas: 4 } }, 'scale');
  t.is(getRaw(c.k, path).spec.replicas, 4, 'the deployment spec follows the scale patch');
});
