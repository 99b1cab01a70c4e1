// [sig-apps] ReplicaSet conformance tests, mirrored from upstream's test/e2e/apps/replica_set.go
// with the same steps and checks. upstream's agnhost pods are the testapp image with httpd as an
// explicit command (helpers/apps-e2e.ts); its serve-hostname image is testapp's own httpd, whose
// GET / answers the pod's hostname. upstream dials the pods through the API server's pod proxy;
// here the request is made from inside the pod's network, to the pod's IP.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import {
  agnhost,
  collectionPath,
  controllerUid,
  deleteCollection,
  getRaw,
  newRS,
  type Obj,
  patch,
  podsOf,
  putRaw,
  updateWithRetries,
  waitObj,
  waitPodsReady,
} from './helpers/apps-e2e.ts';

const it = conformance('replicaset', { timeoutMs: 240_000 });
const rsPath = (c: Ctx, name = '') => `${collectionPath('apps/v1', c.ns, 'replicasets')}${name ? `/${name}` : ''}`;
const sample = { name: 'sample-pod', pod: 'agnhost' };

it('[sig-apps] ReplicaSet should serve a basic image on each replica with a public image [Conformance]', async (t, c) => {
  const name = `my-hostname-basic-${Math.random().toString(36).slice(2, 10)}`;
  const rs = newRS(name, 1, { name }, { name, image: c.env.image, ports: [{ containerPort: 8080 }] });
  c.k.create(rs);
  const pods = await waitPodsReady(c.k, `name=${name}`, 1);
  for (const p of pods) {
    t.is(p.status.phase, 'Running');
    const got = c.k.fetchFrom(p.metadata.name, `http://${p.status.podIP}:8080/`);
    t.is(got.stdout.trim(), p.metadata.name, 'the replica answers with its own hostname');
  }
});

it('[sig-apps] ReplicaSet should adopt matching pods on creation and release no longer matching pods [Conformance]', async (t, c) => {
  const name = 'pod-adoption-release';
  c.k.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { name } },
    spec: { terminationGracePeriodSeconds: 1, containers: [agnhost(c, name)] },
  });
  await waitPodsReady(c.k, `name=${name}`, 1);
  c.k.create(newRS(name, 1, { name }, agnhost(c, name)));
  const rs = c.k.json<Obj>(['get', 'rs', name]);
  await waitObj(c.k, `${collectionPath('v1', c.ns, 'pods')}/${name}`, 'the orphan pod adopted', (p) => controllerUid(p) === rs.metadata.uid, 60_000);

  const [p] = podsOf(c.k, `name=${name}`);
  t.truthy(p);
  await updateWithRetries(c.k, `${collectionPath('v1', c.ns, 'pods')}/${p.metadata.name}`, (o) => {
    o.metadata.labels = { name: 'not-matching-name' };
  });
  const released = await waitObj(
    c.k,
    `${collectionPath('v1', c.ns, 'pods')}/${p.metadata.name}`,
    'the pod released',
    (o) => controllerUid(o) !== rs.metadata.uid,
    60_000,
  );
  t.falsy(controllerUid(released), 'no controller reference left');
});

it('[sig-apps] ReplicaSet Replicaset should have a working scale subresource [Conformance]', async (t, c) => {
  c.k.create(newRS('test-rs', 1, sample, agnhost(c)));
  await waitPodsReady(c.k, 'name=sample-pod', 1);
  await waitObj(c.k, rsPath(c, 'test-rs'), 'status.replicas 1', (o) => o.status?.replicas === 1);
  const scale = getRaw(c.k, `${rsPath(c, 'test-rs')}/scale`);
  t.is(scale.spec.replicas, 1);
  t.is(scale.status.replicas, 1);
  scale.metadata.resourceVersion = ''; // an unconditional scale update
  scale.spec.replicas = 2;
  t.is(putRaw(c.k, `${rsPath(c, 'test-rs')}/scale`, scale).spec.replicas, 2);
  t.is(getRaw(c.k, rsPath(c, 'test-rs')).spec.replicas, 2, 'the replicaset Spec.Replicas was modified');
  patch(c.k, 'rs', 'test-rs', 'strategic', { spec: { replicas: 4 } }, 'scale');
  t.is(getRaw(c.k, rsPath(c, 'test-rs')).spec.replicas, 4, 'replicaset should have 4 replicas');
});

it('[sig-apps] ReplicaSet Replace and Patch tests [Conformance]', async (t, c) => {
  const created = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(newRS('test-rs', 1, sample, agnhost(c)))));
  t.regex(created.metadata.resourceVersion, /^[0-9]+$/);
  await waitPodsReady(c.k, 'name=sample-pod', 1);
  await updateWithRetries(c.k, rsPath(c, 'test-rs'), (o) => {
    o.spec.replicas = 2;
  });
  const patched = patch(c.k, 'rs', 'test-rs', 'strategic', {
    metadata: { labels: { 'test-rs': 'patched' } },
    spec: { replicas: 3, template: { spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'test-rs', image: c.env.altImage }] } } },
  });
  t.true(BigInt(patched.metadata.resourceVersion) > BigInt(created.metadata.resourceVersion), 'patched object should have a larger resource version');
  await waitObj(
    c.k,
    rsPath(c, 'test-rs'),
    '3 ready and available replicas of the patched template',
    (o) =>
      o.metadata.labels['test-rs'] === 'patched' &&
      o.status?.readyReplicas === 3 &&
      o.status?.availableReplicas === 3 &&
      o.spec.template.spec.containers[0].image === c.env.altImage &&
      o.spec.template.spec.terminationGracePeriodSeconds === 0,
    180_000,
  );
});

it('[sig-apps] ReplicaSet should list and delete a collection of ReplicaSets [Conformance]', async (t, c) => {
  const e2e = Math.random().toString(36).slice(2, 7);
  c.k.create(newRS('test-rs', 3, { ...sample, e2e }, agnhost(c)));
  await waitPodsReady(c.k, 'name=sample-pod', 3);
  t.is(getRaw(c.kc, `/apis/apps/v1/replicasets?labelSelector=e2e%3D${e2e}`).items.length, 1, 'filtered list finds the ReplicaSet');
  deleteCollection(c.k, rsPath(c), `e2e=${e2e}`);
  t.is(getRaw(c.kc, `/apis/apps/v1/replicasets?labelSelector=e2e%3D${e2e}`).items.length, 0, 'filtered list should have no replicas');
});

it('[sig-apps] ReplicaSet should validate Replicaset Status endpoints [Conformance]', async (t, c) => {
  c.k.create(newRS('test-rs', 1, sample, agnhost(c)));
  await waitPodsReady(c.k, 'name=sample-pod', 1);
  const st = getRaw(c.k, `${rsPath(c, 'test-rs')}/status`);
  t.is(st.kind, 'ReplicaSet');
  const updated = await updateWithRetries(
    c.k,
    rsPath(c, 'test-rs'),
    (o) => {
      o.status.conditions = [...(o.status.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }];
    },
    '/status',
  );
  t.true(updated.status.conditions.some((x: Obj) => x.type === 'StatusUpdate'));
  await waitObj(
    c.k,
    rsPath(c, 'test-rs'),
    'the StatusUpdate condition',
    (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusUpdate' && x.reason === 'E2E' && x.message === 'Set from e2e test'),
    30_000,
  );
  const patched = patch(c.k, 'rs', 'test-rs', 'merge', { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, 'status');
  t.true(patched.status.conditions.some((x: Obj) => x.type === 'StatusPatched'));
  await waitObj(
    c.k,
    rsPath(c, 'test-rs'),
    'the StatusPatched condition',
    (o) => (o.status.conditions ?? []).some((x: Obj) => x.type === 'StatusPatched'),
    30_000,
  );
});
