// [sig-apps] ReplicationController conformance tests, mirrored from upstream's test/e2e/apps/rc.go
// with the same steps and checks. upstream's nginx/httpd/serve-hostname pods are the testapp image
// (busybox httpd on 8080, GET / answering the hostname); its agnhost pods are testapp with httpd as
// an explicit command. upstream dials the replicas through the API server's pod proxy; here the
// request is made from inside the pod's network to the pod's IP.
import { conformance, type Ctx } from '../conformance/fixture.ts';
import {
  agnhost,
  collectionPath,
  controllerUid,
  deleteCollection,
  getRaw,
  type Obj,
  patch,
  podsOf,
  putRaw,
  updateWithRetries,
  waitGone,
  waitObj,
  waitPodsReady,
} from './helpers/apps-e2e.ts';

const it = conformance('rc', { timeoutMs: 240_000 });
const rcPath = (c: Ctx, name = '') => `${collectionPath('v1', c.ns, 'replicationcontrollers')}${name ? `/${name}` : ''}`;
const podPath = (c: Ctx, name: string) => `${collectionPath('v1', c.ns, 'pods')}/${name}`;

/** upstream's newRC: no selector (defaulted from the template's labels), grace period 0. */
const newRC = (name: string, replicas: number, podLabels: Record<string, string>, container: Obj): Obj => ({
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: { name },
  spec: { replicas, template: { metadata: { labels: podLabels }, spec: { terminationGracePeriodSeconds: 0, containers: [container] } } },
});

it('[sig-apps] ReplicationController should serve a basic image on each replica with a public image [Conformance]', async (t, c) => {
  const name = `my-hostname-basic-${Math.random().toString(36).slice(2, 10)}`;
  c.k.create(newRC(name, 1, { name }, { name, image: c.env.image, ports: [{ containerPort: 8080 }] }));
  const pods = await waitPodsReady(c.k, `name=${name}`, 1);
  for (const p of pods)
    t.is(c.k.fetchFrom(p.metadata.name, `http://${p.status.podIP}:8080/`).stdout.trim(), p.metadata.name, 'the replica answers with its own hostname');
});

it('[sig-apps] ReplicationController should adopt matching pods on creation [Conformance]', async (t, c) => {
  const name = 'pod-adoption';
  c.k.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { name } },
    spec: { terminationGracePeriodSeconds: 1, containers: [agnhost(c, name)] },
  });
  await waitPodsReady(c.k, `name=${name}`, 1);
  const rcSt = newRC(name, 1, { name }, agnhost(c, name));
  rcSt.spec.selector = { name };
  c.k.create(rcSt);
  const rc = getRaw(c.k, rcPath(c, name));
  const p = await waitObj(c.k, podPath(c, name), 'the orphan pod adopted', (o) => controllerUid(o) === rc.metadata.uid, 60_000);
  t.is(p.metadata.ownerReferences.find((r: Obj) => r.controller).kind, 'ReplicationController');
  t.is(podsOf(c.k, `name=${name}`).length, 1, 'the adopted pod counts: no second pod');
});

it('[sig-apps] ReplicationController should release no longer matching pods [Conformance]', async (t, c) => {
  const name = 'pod-release';
  c.k.create(newRC(name, 1, { name }, agnhost(c, name)));
  const rc = getRaw(c.k, rcPath(c, name));
  const [p] = await waitPodsReady(c.k, `name=${name}`, 1);
  await updateWithRetries(c.k, podPath(c, p.metadata.name), (o) => {
    o.metadata.labels = { name: 'not-matching-name' };
  });
  const released = await waitObj(c.k, podPath(c, p.metadata.name), 'the pod released', (o) => controllerUid(o) !== rc.metadata.uid, 60_000);
  t.falsy(controllerUid(released));
});

it('[sig-apps] ReplicationController should test the lifecycle of a ReplicationController [Conformance]', async (t, c) => {
  const name = 'rc-test';
  const path = rcPath(c, name);
  c.k.create({
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name, labels: { 'test-rc-static': 'true' } },
    spec: {
      replicas: 1,
      selector: { 'test-rc-static': 'true' },
      template: { metadata: { name, labels: { 'test-rc-static': 'true' } }, spec: { containers: [{ name, image: c.env.image }] } },
    },
  });
  await waitObj(c.k, path, 'available replicas', (o) => o.status?.replicas === 1 && o.status?.readyReplicas === 1);

  const patched = patch(c.k, 'rc', name, 'strategic', { metadata: { labels: { 'test-rc': 'patched' } } });
  t.is(patched.metadata.labels['test-rc'], 'patched', 'patching ReplicationController');

  const st = patch(c.k, 'rc', name, 'strategic', { status: { readyReplicas: 0, availableReplicas: 0 } }, 'status');
  t.is(st.status.readyReplicas ?? 0, 0, 'ReplicationControllerStatus readyReplicas patched to 0');
  await waitObj(c.k, path, 'status.replicas back at 1', (o) => o.status?.replicas === 1);
  t.is(getRaw(c.k, `${path}/status`).status.replicas, 1, 'GET /status shows 1 replica');

  patch(c.k, 'rc', name, 'strategic', { spec: { replicas: 2 } }, 'scale');
  await waitObj(c.k, path, 'the scale to be the max amount (2 ready)', (o) => o.status?.replicas === 2 && o.status?.readyReplicas === 2, 120_000);
  const rc = getRaw(c.k, path);
  t.is(rc.metadata.labels['test-rc'], 'patched', 'the label from the earlier patch is kept');
  rc.status.availableReplicas = 1;
  rc.status.readyReplicas = 1;
  putRaw(c.k, `${path}/status`, rc);

  const listed = getRaw(c.kc, '/api/v1/replicationcontrollers?labelSelector=test-rc-static%3Dtrue').items as Obj[];
  t.true(
    listed.some((o) => o.metadata.name === name && o.metadata.namespace === c.ns && o.metadata.labels['test-rc'] === 'patched'),
    'listed with its patched labels',
  );
  deleteCollection(c.k, rcPath(c), 'test-rc-static=true');
  await waitGone(c.k, path, 'the ReplicationController deleted by collection');
});

it('[sig-apps] ReplicationController should get and update a ReplicationController scale [Conformance]', async (t, c) => {
  const name = `e2e-rc-${Math.random().toString(36).slice(2, 7)}`;
  c.k.create(newRC(name, 1, { name }, { name: 'httpd', image: c.env.image }));
  await waitObj(c.k, rcPath(c, name), 'status.replicas 1', (o) => o.status?.replicas === 1, 60_000);
  const scale = getRaw(c.k, `${rcPath(c, name)}/scale`);
  t.is(scale.status.replicas, 1, 'the current replica count');
  scale.metadata.resourceVersion = '';
  scale.spec.replicas = 2;
  putRaw(c.k, `${rcPath(c, name)}/scale`, scale);
  await waitObj(c.k, rcPath(c, name), 'status.replicas 2', (o) => o.status?.replicas === 2, 60_000);
});
