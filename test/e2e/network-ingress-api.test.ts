// [sig-network] Ingress API and IngressClass API (test/e2e/network/ingress.go and
// ingressclass.go upstream), by their exact names: discovery, create/get/list/watch/patch/update/
// delete/deletecollection, and for Ingress the status subresource (patch, update, get); plus the
// IngressClass [Feature:Ingress] admission cases that hold on any cluster (a newer default class
// wins; Namespace-scoped parameters). Needs only an API server: no node, no controller.
import { conformance, type Kube, until } from '../conformance/fixture.ts';

const it = conformance('ingress-api');
const raw = (k: Kube, path: string) => JSON.parse(k.ok(['get', '--raw', path]));
const ING = (ns: string) => `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`;
const IC = '/apis/networking.k8s.io/v1/ingressclasses';

function discovered(t: { true(v: boolean, m?: string): void }, kc: Kube, resource: string) {
  const groups = raw(kc, '/apis').groups as { name: string; versions: { version: string }[] }[];
  t.true(
    groups.some((g) => g.name === 'networking.k8s.io' && g.versions.some((v) => v.version === 'v1')),
    'networking.k8s.io/v1 in /apis',
  );
  t.true(raw(kc, '/apis/networking.k8s.io').versions.some((v: { version: string }) => v.version === 'v1'));
  t.true(
    raw(kc, '/apis/networking.k8s.io/v1').resources.some((r: { name: string }) => r.name === resource),
    `${resource} in discovery`,
  );
}

/** The watch from `rv` replays the patch and the update as MODIFIED events, as upstream's watch sees them. */
function watchedModifications(kc: Kube, path: string, rv: string, sel: string) {
  return kc
    .ok(['get', '--raw', `${path}?watch=1&resourceVersion=${rv}&labelSelector=${encodeURIComponent(sel)}&timeoutSeconds=2`])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: any });
}

const ingress = (ns: string, host: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { generateName: 'e2e-example-ing', labels: { 'special-label': ns } },
  spec: {
    defaultBackend: { service: { name: 'default-backend', port: { number: 8080 } } },
    rules: [
      { host, http: { paths: [{ path: '/', pathType: 'ImplementationSpecific', backend: { service: { name: 'test-backend', port: { number: 8080 } } } }] } },
    ],
  },
});

it('[sig-network] Ingress API should support creating Ingress API operations [Conformance]', async (t, c) => {
  discovered(t, c.kc, 'ingresses');
  const sel = `special-label=${c.ns}`;
  const create = (host: string) => JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(ingress(c.ns, host))));
  create('host1.bar.com');
  create('host2.bar.com');
  const made = create('host3.bar.com');
  const name = made.metadata.name as string;
  t.is(c.k.json<any>(['get', 'ingress', name]).metadata.uid, made.metadata.uid);
  const list = raw(c.kc, `${ING(c.ns)}?labelSelector=${encodeURIComponent(sel)}`);
  t.is(list.items.length, 3, 'filtered list should have 3 items');
  t.is(c.kc.json<any>(['get', 'ingresses', '-A', '-l', sel]).items.length, 3, 'cluster-wide list');
  const patched = JSON.parse(c.k.ok(['patch', 'ingress', name, '--type=merge', '-p', '{"metadata":{"annotations":{"patched":"true"}}}', '-o', 'json']));
  t.is(patched.metadata.annotations.patched, 'true');
  // a controller may write the status in between: re-read and retry on a conflict, as upstream's retry.RetryOnConflict
  const updated = await until(
    'the update',
    () => {
      const cur = c.k.json<any>(['get', 'ingress', name]);
      cur.metadata.annotations.updated = 'true';
      const r = c.k.run(['replace', '-f', '-', '-o', 'json'], JSON.stringify(cur));
      if (r.code !== 0 && !/Conflict|modified/.test(r.stderr)) throw new Error(r.stderr);
      return r.code === 0 && JSON.parse(r.stdout);
    },
    30_000,
  );
  t.is(updated.metadata.annotations.updated, 'true');
  const events = watchedModifications(c.kc, ING(c.ns), list.metadata.resourceVersion, sel);
  t.true(
    events.every((e) => e.type === 'MODIFIED'),
    events.map((e) => e.type).join(','),
  );
  t.true(events.some((e) => e.object.metadata.annotations?.patched === 'true'));

  // /status
  const lb = (ip: string) => ({ ingress: [{ ip }] });
  const statusPatch = JSON.stringify({ metadata: { annotations: { patchedstatus: 'true' } }, status: { loadBalancer: lb('169.1.1.1') } });
  const ps = JSON.parse(c.k.ok(['patch', 'ingress', name, '--subresource=status', '--type=merge', '-p', statusPatch, '-o', 'json']));
  t.deepEqual(ps.status.loadBalancer, lb('169.1.1.1'));
  t.is(ps.metadata.annotations.patchedstatus, 'true');
  const us = await until(
    'the status update',
    () => {
      const cur = raw(c.kc, `${ING(c.ns)}/${name}`);
      cur.status.loadBalancer = lb('169.1.1.2');
      const r = c.k.run(['replace', '--subresource=status', '-f', '-', '-o', 'json'], JSON.stringify(cur));
      if (r.code !== 0 && !/Conflict|modified/.test(r.stderr)) throw new Error(r.stderr);
      return r.code === 0 && JSON.parse(r.stdout);
    },
    30_000,
  );
  t.deepEqual(us.status.loadBalancer, lb('169.1.1.2'));
  t.is(raw(c.kc, `${ING(c.ns)}/${name}/status`).metadata.uid, made.metadata.uid);

  c.k.ok(['delete', 'ingress', name, '--wait=false']);
  const gone = c.k.get('ingress', name);
  t.true(gone === undefined || (gone.metadata.deletionTimestamp && gone.metadata.finalizers?.length > 0), 'deleted, or waiting on its finalizers');
  t.true(c.k.json<any>(['get', 'ingresses', '-l', sel]).items.length <= 3);
  c.k.ok(['delete', 'ingresses', '-l', sel, '--wait=false']);
  for (const ing of c.k.json<any>(['get', 'ingresses', '-l', sel]).items)
    t.true(ing.metadata.finalizers?.length > 0, 'only ingresses held by finalizers remain');
});

const ingressClass = (name: string, unique: string, isDefault = false, parameters?: object) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: {
    name,
    labels: { ingressclass: unique, 'special-label': 'generic' },
    ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}),
  },
  spec: { controller: 'example.com/controller', ...(parameters ? { parameters } : {}) },
});
/** class names of their own: cluster-scoped objects outlive the test's namespace */
const classNames = (ns: string) => [1, 2, 3].map((i) => `${ns}-ingressclass${i}`);

it('[sig-network] IngressClass API should support creating IngressClass API operations [Conformance]', (t, c) => {
  discovered(t, c.kc, 'ingressclasses');
  const [n1, n2, n3] = classNames(c.ns);
  const sel = `ingressclass=${c.ns}`;
  try {
    const made = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(ingressClass(n1, c.ns))));
    c.kc.create(ingressClass(n2, c.ns), ingressClass(n3, c.ns));
    t.is(c.kc.json<any>(['get', 'ingressclass', n1]).metadata.uid, made.metadata.uid);
    const list = raw(c.kc, `${IC}?labelSelector=${encodeURIComponent(sel)}`);
    t.is(list.items.length, 3, 'filtered list should have 3 items');
    const patched = JSON.parse(c.kc.ok(['patch', 'ingressclass', n1, '--type=merge', '-p', '{"metadata":{"annotations":{"patched":"true"}}}', '-o', 'json']));
    t.is(patched.metadata.annotations.patched, 'true');
    patched.metadata.annotations.updated = 'true';
    t.is(JSON.parse(c.kc.ok(['replace', '-f', '-', '-o', 'json'], JSON.stringify(patched))).metadata.annotations.updated, 'true');
    const events = watchedModifications(c.kc, IC, list.metadata.resourceVersion, sel);
    t.true(
      events.every((e) => e.type === 'MODIFIED'),
      events.map((e) => e.type).join(','),
    );
    t.true(events.some((e) => e.object.metadata.annotations?.patched === 'true' && e.object.metadata.annotations?.updated === 'true'));
    c.kc.ok(['delete', 'ingressclass', n1]);
    t.is(c.kc.get('ingressclass', n1), undefined);
    t.is(c.kc.json<any>(['get', 'ingressclasses', '-l', sel]).items.length, 2, 'filtered list should have 2 items');
    c.kc.ok(['delete', 'ingressclasses', '-l', sel]);
    t.is(c.kc.json<any>(['get', 'ingressclasses', '-l', sel]).items.length, 0, 'filtered list should have 0 items');
  } finally {
    c.kc.run(['delete', 'ingressclasses', '-l', sel, '--ignore-not-found']);
  }
});

const basicIngress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'ingress1' },
  spec: { defaultBackend: { service: { name: 'defaultbackend', port: { number: 80 } } } },
};

it('[sig-network] IngressClass [Feature:Ingress] should choose the one with the later CreationTimestamp, if equal the one with the lower name when two ingressClasses are marked as default [Serial]', async (t, c) => {
  const [n1, n2] = classNames(c.ns);
  try {
    const c1 = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(ingressClass(n1, c.ns, true))));
    const c2 = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(ingressClass(n2, c.ns, true))));
    const expected = Date.parse(c2.metadata.creationTimestamp) > Date.parse(c1.metadata.creationTimestamp) ? n2 : n1;
    const got = await until(
      'an Ingress defaulted to the newest default class',
      () => {
        const ing = JSON.parse(c.k.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(basicIngress)));
        c.k.ok(['delete', 'ingress', 'ingress1', '--wait=false']);
        return ing.spec.ingressClassName as string | undefined;
      },
      60_000,
      1000,
    );
    t.is(got, expected);
  } finally {
    c.kc.run(['delete', 'ingressclass', n1, n2, '--ignore-not-found']);
  }
});

it('[sig-network] IngressClass [Feature:Ingress] should allow IngressClass to have Namespace-scoped parameters [Serial]', (t, c) => {
  const [n1] = classNames(c.ns);
  try {
    const params = { scope: 'Namespace', namespace: 'foo-ns', kind: 'fookind', name: 'fooname', apiGroup: 'example.com' };
    const made = JSON.parse(c.kc.ok(['create', '-f', '-', '-o', 'json'], JSON.stringify(ingressClass(n1, c.ns, false, params))));
    t.is(made.spec.parameters?.scope, 'Namespace');
  } finally {
    c.kc.run(['delete', 'ingressclass', n1, '--ignore-not-found']);
  }
});
