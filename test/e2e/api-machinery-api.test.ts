// [sig-api-machinery] the API surface itself: version, discovery documents, chunked lists,
// server-side field validation of typed objects, and (marked [hawser], no upstream counterpart)
// field and label selectors on lists, as kubectl users write them.
import { conformance, readyNodes, waitReady } from '../conformance/fixture.ts';
import { deployment, sleeper } from '../conformance/manifests.ts';

const it = conformance('apimachinery');

it('[sig-api-machinery] server version should find the server version [Conformance]', (t, c) => {
  const v = JSON.parse(c.kc.ok(['get', '--raw', '/version']));
  t.regex(v.major, /^\d+$/, `major "${v.major}" is an integer`);
  t.regex(v.minor.replace(/\+$/, ''), /^\d+$/, `minor "${v.minor}" is an integer`);
  t.truthy(v.gitVersion);
});

it('[sig-api-machinery] Discovery should validate PreferredVersion for each APIGroup [Conformance]', (t, c) => {
  const groups = JSON.parse(c.kc.ok(['get', '--raw', '/apis'])).groups as any[];
  t.true(groups.length > 0, 'at least one API group');
  for (const g of groups) {
    const versions = (g.versions as any[]).map((v) => v.groupVersion);
    t.true(versions.includes(g.preferredVersion?.groupVersion), `${g.name}: preferred ${g.preferredVersion?.groupVersion} among ${versions}`);
    const one = JSON.parse(c.kc.ok(['get', '--raw', `/apis/${g.name}`]));
    t.deepEqual(one.preferredVersion, g.preferredVersion, `/apis/${g.name} agrees with /apis`);
  }
});

it('[sig-api-machinery] Discovery should locate the groupVersion and a resource within each APIGroup [Conformance]', (t, c) => {
  const groups = JSON.parse(c.kc.ok(['get', '--raw', '/apis'])).groups as any[];
  for (const g of groups) {
    for (const v of g.versions as any[]) {
      const list = JSON.parse(c.kc.ok(['get', '--raw', `/apis/${v.groupVersion}`]));
      t.is(list.kind, 'APIResourceList');
      t.is(list.groupVersion, v.groupVersion);
      t.true(
        (list.resources as any[]).some((r) => r.name && r.kind && Array.isArray(r.verbs)),
        `${v.groupVersion} lists a resource`,
      );
    }
  }
  const core = JSON.parse(c.kc.ok(['get', '--raw', '/api/v1']));
  t.true((core.resources as any[]).some((r) => r.name === 'pods' && r.namespaced === true && r.kind === 'Pod'));
});

it('[sig-api-machinery] Servers with support for API chunking should return chunks of results for list calls [Conformance]', (t, c) => {
  const total = 400,
    limit = 40;
  const items = Array.from({ length: total }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'PodTemplate',
    metadata: { name: `template-${String(i).padStart(4, '0')}` },
    template: { metadata: { labels: { name: `test-${i}` } }, spec: { containers: [{ name: 'test', image: c.env.image }] } },
  }));
  c.k.create(...items);
  const base = `/api/v1/namespaces/${c.ns}/podtemplates`;
  const seen: string[] = [];
  let cont = '',
    pages = 0,
    rv = '';
  do {
    const page = JSON.parse(c.kc.ok(['get', '--raw', `${base}?limit=${limit}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`]));
    pages++;
    t.true(page.items.length <= limit, `page ${pages} has ${page.items.length} items`);
    seen.push(...page.items.map((p: any) => p.metadata.name));
    cont = page.metadata.continue ?? '';
    if (pages === 1) rv = page.metadata.resourceVersion;
    else t.is(page.metadata.resourceVersion, rv, "every page is from the first page's snapshot");
    if (cont) t.is(page.metadata.remainingItemCount, total - seen.length, 'remainingItemCount counts what is left');
    if (pages > total / limit + 1) break;
  } while (cont);
  t.is(pages, total / limit);
  t.deepEqual(
    seen,
    items.map((i) => i.metadata.name),
    'all items, in order, once',
  );
  const whole = JSON.parse(c.kc.ok(['get', '--raw', base]));
  t.is(whole.items.length, total);
  t.falsy(whole.metadata.continue);
});

it('[sig-api-machinery] FieldValidation should detect unknown and duplicate fields of a typed object [Conformance]', (t, c) => {
  const url = `/apis/apps/v1/namespaces/${c.ns}/deployments?fieldValidation=Strict`;
  const d = deployment('deployment', c.env.image, 1, { app: 'nginx' });
  const unknown = JSON.stringify({ ...d, spec: { ...d.spec, foo: 'bar' } });
  const r1 = c.kc.run(['create', '--raw', url, '-f', '-'], unknown);
  t.not(r1.code, 0, 'strict validation rejects an unknown field');
  t.regex(r1.stderr, /unknown field "spec\.foo"/);
  const dup = JSON.stringify(d).replace('"replicas":1', '"replicas":1,"replicas":2');
  const r2 = c.kc.run(['create', '--raw', url, '-f', '-'], dup);
  t.not(r2.code, 0, 'strict validation rejects a duplicate field');
  t.regex(r2.stderr, /duplicate field "(spec\.)?replicas"/);
  t.is(c.k.get('deployment', 'deployment'), undefined, 'nothing was stored');
  t.is(c.kc.run(['create', '--raw', url.replace('Strict', 'Ignore'), '-f', '-'], unknown).code, 0, 'Ignore accepts and drops the field');
  t.falsy(c.k.json<any>(['get', 'deployment', 'deployment']).spec.foo);
});

it('[sig-api-machinery] FieldValidation should detect unknown metadata fields of a typed object [Conformance]', (t, c) => {
  const url = `/apis/apps/v1/namespaces/${c.ns}/deployments?fieldValidation=Strict`;
  const d = deployment('deployment', c.env.image, 1, { app: 'nginx' });
  const r = c.kc.run(['create', '--raw', url, '-f', '-'], JSON.stringify({ ...d, metadata: { ...d.metadata, unknownMeta: 'foo' } }));
  t.not(r.code, 0);
  t.regex(r.stderr, /unknown field "metadata\.unknownMeta"/);
  t.is(c.k.get('deployment', 'deployment'), undefined);
});

it('[sig-api-machinery] [hawser] lists honour field selectors and set-based label selectors', async (t, c) => {
  const node = readyNodes(c.kc)[0].metadata.name;
  c.k.create(
    sleeper('alpha', c.env.image, { node, labels: { app: 'sel', tier: 'front' } }),
    sleeper('beta', c.env.image, { labels: { app: 'sel', tier: 'back' } }),
    sleeper('gamma', c.env.image, { labels: { app: 'other' } }),
  );
  await waitReady(c.k, ['alpha', 'beta', 'gamma']);
  const names = (args: string[]) => (c.k.json<any>(['get', 'pods', ...args]).items as any[]).map((p) => p.metadata.name).sort();
  t.deepEqual(names(['--field-selector', 'metadata.name=beta']), ['beta']);
  t.deepEqual(names(['--field-selector', 'metadata.name!=beta']), ['alpha', 'gamma']);
  t.deepEqual(names(['--field-selector', 'status.phase=Running']), ['alpha', 'beta', 'gamma']);
  t.true(names(['--field-selector', `spec.nodeName=${node}`]).includes('alpha'), 'spec.nodeName');
  t.deepEqual(names(['--field-selector', `spec.nodeName=${node},metadata.name=alpha`]), ['alpha'], 'field selectors AND together');
  t.deepEqual(names(['-l', 'app=sel']), ['alpha', 'beta']);
  t.deepEqual(names(['-l', 'tier in (front,back)']), ['alpha', 'beta']);
  t.deepEqual(names(['-l', 'tier notin (front)']), ['beta', 'gamma'], 'notin also matches objects without the key');
  t.deepEqual(names(['-l', '!tier']), ['gamma']);
  t.deepEqual(names(['-l', 'app=sel,tier!=front']), ['beta']);
  t.deepEqual(names(['-l', 'app=sel', '--field-selector', 'metadata.name=alpha']), ['alpha'], 'label and field selectors together');
  const bad = c.k.run(['get', 'pods', '--field-selector', 'spec.nosuchfield=x']);
  t.not(bad.code, 0, 'an unsupported field selector is an error');
  t.regex(bad.stderr, /field label not supported|not a known field selector|BadRequest/i);
});
