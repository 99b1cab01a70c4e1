// Prototype pollution through client-chosen keys (issue 24, finding 1), against an in-process
// control plane: JSON, merge, strategic and apply patches, JSON and YAML bodies, managedFields and
// selectors that name "__proto__", "constructor" or "prototype" must leave Object.prototype (and
// its friends) untouched, later requests must still work, and an unprivileged user stays refused.
// The answers are upstream's: Go has no prototypes, so such a key is a missing JSON-patch path
// (422), an unknown field (a warning, 400 under Strict), or a map key judged by validation.
// Also the strategic-merge directives upstream refuses (issue 24, finding 7): 400, nothing stored.
import test, { type ExecutionContext } from 'ava';
import https from 'node:https';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { protoChanges, resetSnapshot } from '../unit/_prototypes.ts';
import { type Cluster, readyNode, startCluster } from './_apiserver-kit.ts';

let c: Cluster;
let node: string; // kubeconfig of system:node:n1
let mallory: string; // an authenticated user without any rights

interface Reply {
  status: number;
  body: Record<string, any>;
  warnings: string[];
}

function send(kubeconfig: string, method: string, path: string, body?: string, contentType = 'application/json'): Promise<Reply> {
  const { ca, cert, key } = loadKubeconfig(kubeconfig);
  const { hostname, port } = new URL(c.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: hostname, port, ca, cert, key, method, path, headers: body === undefined ? {} : { 'content-type': contentType } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const w = res.headers.warning;
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : { text }, warnings: w === undefined ? [] : [w].flat() });
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(body);
  });
}

/** After an attack: nothing polluted, the server still serves everyone, mallory is still refused. */
async function unharmed(t: ExecutionContext, what: string): Promise<void> {
  t.is(({} as Record<string, unknown>).polluted, undefined, `${what}: ({}).polluted`);
  // decided while any pollution is still in place, then the prototypes are put back
  t.is((await send(c.admin, 'GET', '/api/v1/nodes/n1')).status, 200, `${what}: later requests still served`);
  t.is((await send(mallory, 'GET', '/api/v1/namespaces/default/secrets')).status, 403, `${what}: mallory may not list secrets`);
  t.is((await send(mallory, 'POST', '/api/v1/namespaces/default/pods/p/exec?command=id&stdout=true')).status, 403, `${what}: mallory may not exec`);
  t.is((await send(mallory, 'GET', '/metrics')).status, 403, `${what}: mallory may not read /metrics`);
  t.deepEqual(protoChanges(), [], `${what}: shared prototypes untouched`);
}

const nodeLabels = async () => (await send(c.admin, 'GET', '/api/v1/nodes/n1')).body.metadata.labels as Record<string, string>;

test.before(async () => {
  c = await startCluster('sqlite');
  // the control plane closed the prototypes and removed the __proto__ accessor (harden.ts)
  resetSnapshot();
  node = await c.identity('system:node:n1', ['system:nodes']);
  mallory = await c.identity('mallory', []);
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode('n1', '10.0.0.1')) });
});
// a failed assertion ends its test: put the prototypes back so the next test starts clean
test.afterEach.always(() => {
  protoChanges();
});
test.after.always(async () => {
  await c?.close();
});

const POLLUTERS = [
  '/__proto__',
  '/constructor/prototype',
  '/metadata/__proto__',
  '/metadata/labels/__proto__',
  '/metadata/labels/constructor/prototype',
  '/spec/constructor/prototype',
];

test.serial('a JSON patch cannot walk into a prototype: the path is missing (422), as upstream', async (t) => {
  const nodePatch = (ops: unknown) => send(node, 'PATCH', '/api/v1/nodes/n1', JSON.stringify(ops), 'application/json-patch+json');
  for (const base of POLLUTERS) {
    for (const [field, value] of [
      ['polluted', 'yes'],
      ['resources', ['*']],
      ['apiGroups', ['*']],
      ['verbs', ['*']],
      ['nonResourceURLs', ['*']],
      ['resourceNames', []],
    ] as const) {
      const path = `${base}/${field}`;
      const r = await nodePatch([{ op: 'add', path, value }]);
      t.is(r.status, 422, path);
      t.is(r.body.reason, 'Invalid', path);
      t.true(String(r.body.message).includes(`doc is missing path: "${path}"`), `${path}: ${r.body.message}`);
    }
    await unharmed(t, `add ${base}/*`);
  }
  // every other operation that names or reads an inherited member
  const ops = [
    { op: 'replace', path: '/metadata/labels/toString', value: 'x' },
    { op: 'remove', path: '/metadata/labels/constructor' },
    { op: 'remove', path: '/constructor/prototype/toString' },
    { op: 'copy', from: '/constructor/prototype', path: '/metadata/labels/x' },
    { op: 'move', from: '/__proto__/hasOwnProperty', path: '/metadata/labels/x' },
    { op: 'test', path: '/__proto__', value: {} },
    { op: 'replace', path: '/constructor/keys', value: 'broken' },
  ];
  for (const op of ops) {
    const r = await nodePatch([op]);
    t.is(r.status, 422, JSON.stringify(op));
    t.regex(String(r.body.message), /doc is missing path|test failed/, JSON.stringify(op));
  }
  await unharmed(t, 'other JSON patch operations');
});

test.serial('a JSON patch may add the label key "__proto__" only to have validation refuse it (422)', async (t) => {
  const r = await send(
    node,
    'PATCH',
    '/api/v1/nodes/n1',
    JSON.stringify([{ op: 'add', path: '/metadata/labels/__proto__', value: 'yes' }]),
    'application/json-patch+json',
  );
  t.is(r.status, 422);
  t.is(r.body.reason, 'Invalid');
  t.true(
    r.body.details.causes.some((x: { field: string }) => x.field === 'metadata.labels'),
    JSON.stringify(r.body),
  );
  t.false(Object.hasOwn(await nodeLabels(), '__proto__'));
  // an object there is not a label value: a decode error, as upstream
  const o = await send(
    node,
    'PATCH',
    '/api/v1/nodes/n1',
    JSON.stringify([{ op: 'add', path: '/metadata/labels/__proto__', value: { polluted: 'yes' } }]),
    'application/json-patch+json',
  );
  t.true(o.status === 400 || o.status === 422, `${o.status} ${o.body.message}`);
  await unharmed(t, 'label __proto__');
});

const MERGE_BODIES: unknown[] = [
  { __proto__x: { polluted: 'yes' } },
  { constructor: { prototype: { polluted: 'yes', resources: ['*'], apiGroups: ['*'] } } },
  { metadata: { __proto__x: { polluted: 'yes' }, labels: { constructor: { prototype: { polluted: 'yes' } } } } },
  { metadata: { labels: { __proto__x: { polluted: 'yes', resources: ['*'] } } } },
  { spec: { __proto__x: { polluted: 'yes' }, constructor: { prototype: { polluted: 'yes' } } } },
  { status: { __proto__x: { polluted: 'yes' } } },
];
/** JSON text with a real "__proto__" key (an object literal would set the prototype instead). */
const asText = (b: unknown) => JSON.stringify(b).replaceAll('__proto__x', '__proto__');

for (const [type, ct] of [
  ['merge', 'application/merge-patch+json'],
  ['strategic', 'application/strategic-merge-patch+json'],
] as const) {
  test.serial(`a ${type} patch keeps "__proto__" and "constructor" as plain keys: unknown fields or refused values, never the prototype`, async (t) => {
    for (const b of MERGE_BODIES) {
      const r = await send(node, 'PATCH', '/api/v1/nodes/n1', asText(b), ct);
      // unknown fields are dropped with a warning; an object as a label value is refused
      t.true([200, 400, 422].includes(r.status), `${asText(b)}: ${r.status} ${r.body.message}`);
      await unharmed(t, `${type} ${asText(b)}`);
    }
    const strict = await send(node, 'PATCH', '/api/v1/nodes/n1?fieldValidation=Strict', asText({ __proto__x: { polluted: 'yes' } }), ct);
    t.is(strict.status, 400);
    t.regex(String(strict.body.message), /strict decoding error: unknown field "__proto__"/);
    const warned = await send(node, 'PATCH', '/api/v1/nodes/n1', asText({ spec: { __proto__x: { polluted: 'yes' } } }), ct);
    t.is(warned.status, 200);
    t.true(
      warned.warnings.some((w) => w.includes('unknown field \\"spec.__proto__\\"') || w.includes('unknown field "spec.__proto__"')),
      warned.warnings.join('|'),
    );
    const label = await send(node, 'PATCH', '/api/v1/nodes/n1', asText({ metadata: { labels: { __proto__x: 'yes' } } }), ct);
    t.is(label.status, 422, label.body.message);
    t.false(Object.hasOwn(await nodeLabels(), '__proto__'));
    await unharmed(t, type);
  });
}

const APPLY_YAML = [
  'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n__proto__:\n  polluted: "yes"\n',
  'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    a: b\n    constructor:\n      prototype:\n        polluted: "yes"\n',
  'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  __proto__:\n    polluted: "yes"\nspec:\n  __proto__:\n    resources: ["*"]\n  constructor:\n    prototype:\n      polluted: "yes"\n',
  'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    __proto__: "yes"\n',
];

test.serial('server-side apply of YAML with "__proto__" and "constructor" keys leaves the prototypes alone', async (t) => {
  for (const y of APPLY_YAML) {
    const r = await send(node, 'PATCH', '/api/v1/nodes/n1?fieldManager=attacker&force=true', y, 'application/apply-patch+yaml');
    t.true([200, 400, 422].includes(r.status), `${y}: ${r.status} ${r.body.message}`);
    await unharmed(t, `apply ${y}`);
  }
  // applying again after the live object carries this manager's fields, then dropping them
  await send(
    node,
    'PATCH',
    '/api/v1/nodes/n1?fieldManager=attacker&force=true',
    'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n',
    'application/apply-patch+yaml',
  );
  await unharmed(t, 'apply that drops fields');
});

test.serial('managedFields naming "__proto__" paths are not written through', async (t) => {
  const cm = (fieldsV1: string) =>
    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"mf","managedFields":[{"manager":"x","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":${fieldsV1}}]},"data":{"a":"b"}}`;
  for (const f of [
    '{"__proto__":{"polluted":{}}}',
    '{"f:data":{"__proto__":{"polluted":{}}}}',
    '{"constructor":{"prototype":{"polluted":{}}}}',
    '{"f:metadata":{"f:labels":{"__proto__":{".":{},"polluted":{}}}}}',
  ]) {
    const created = await send(c.admin, 'POST', '/api/v1/namespaces/default/configmaps?fieldManager=m', cm(f));
    t.true(created.status < 500, `${f}: ${created.status} ${created.body.message}`);
    await unharmed(t, `create with managedFields ${f}`);
    const updated = await send(c.admin, 'PUT', '/api/v1/namespaces/default/configmaps/mf?fieldManager=m', cm(f).replace('"a":"b"', '"a":"c"'));
    t.true(updated.status < 500, `${f}: ${updated.status} ${updated.body.message}`);
    await unharmed(t, `update with managedFields ${f}`);
    const applied = await send(
      c.admin,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/mf?fieldManager=x&force=true',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mf\n',
      'application/apply-patch+yaml',
    );
    t.true(applied.status < 500, `${f}: ${applied.status} ${applied.body.message}`);
    await unharmed(t, `apply over managedFields ${f}`);
    await send(c.admin, 'DELETE', '/api/v1/namespaces/default/configmaps/mf');
  }
});

test.serial('JSON and YAML bodies keep "__proto__" and "constructor" as ordinary data keys', async (t) => {
  const json =
    '{"apiVersion":"v1","kind":"ConfigMap","__proto__":{"polluted":"yes"},"metadata":{"name":"keys","__proto__":{"polluted":"yes"}},"data":{"__proto__":"p","constructor":"c","toString":"s"}}';
  const r = await send(c.admin, 'POST', '/api/v1/namespaces/default/configmaps', json);
  t.is(r.status, 201, r.body.message);
  await unharmed(t, 'JSON create');
  // a ConfigMap key "__proto__" is valid upstream: stored and served as a key like any other
  const got = await send(c.admin, 'GET', '/api/v1/namespaces/default/configmaps/keys');
  t.deepEqual(Object.entries(got.body.data), [
    ['__proto__', 'p'],
    ['constructor', 'c'],
    ['toString', 's'],
  ]);
  const yaml =
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keys\n  __proto__:\n    polluted: "yes"\n__proto__:\n  polluted: "yes"\ndata:\n  __proto__: q\n';
  const u = await send(c.admin, 'PUT', '/api/v1/namespaces/default/configmaps/keys', yaml, 'application/yaml');
  t.is(u.status, 200, u.body.message);
  t.deepEqual(u.body.data, JSON.parse('{"__proto__":"q"}'));
  await unharmed(t, 'YAML update');
  const secret = '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"__proto__":"p","constructor":"c"}}';
  const s = await send(c.admin, 'POST', '/api/v1/namespaces/default/secrets', secret);
  t.is(s.status, 201, s.body.message);
  t.deepEqual(Object.keys(s.body.data).sort(), ['__proto__', 'constructor']);
  await unharmed(t, 'Secret stringData');
  await send(c.admin, 'DELETE', '/api/v1/namespaces/default/configmaps/keys');
  await send(c.admin, 'DELETE', '/api/v1/namespaces/default/secrets/s');
});

test.serial('selectors on "__proto__" or "constructor" are refused or match nothing', async (t) => {
  const list = (q: string) => send(c.admin, 'GET', `/api/v1/nodes?${q}`);
  t.is((await list('labelSelector=__proto__')).status, 400);
  t.is((await list('labelSelector=__proto__%3Dx')).status, 400);
  t.deepEqual((await list('labelSelector=constructor')).body.items, []);
  t.deepEqual((await list('labelSelector=toString%20in%20(x)')).body.items, []);
  t.is((await list('labelSelector=!constructor')).body.items.length, 1);
  t.is((await list('fieldSelector=__proto__%3Dx')).status, 400);
  t.is((await list('fieldSelector=constructor%3Dx')).status, 400);
  await unharmed(t, 'selectors');
});

test.serial('a patch content type naming an inherited member is an unsupported media type (415)', async (t) => {
  for (const ct of ['constructor', '__proto__', 'toString']) {
    const r = await send(node, 'PATCH', '/api/v1/nodes/n1', '{}', ct);
    t.is(r.status, 415, `${ct}: ${r.body.message}`);
    t.is(r.body.reason, 'UnsupportedMediaType', ct);
  }
  await unharmed(t, 'patch content types');
});

test.serial('review requests naming inherited members decide on their own fields only', async (t) => {
  const review = (spec: string) =>
    send(
      mallory,
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      `{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":${spec}}`,
    );
  for (const spec of ['{"resourceAttributes":{"__proto__":{"verb":"get","resource":"secrets"}}}', '{"__proto__":{"resourceAttributes":{"verb":"get"}}}']) {
    const r = await review(spec);
    t.true(r.status < 500, `${spec}: ${r.status}`);
    t.not(r.body.status?.allowed, true, spec);
    await unharmed(t, `review ${spec}`);
  }
});

// ---- strategic merge directives upstream refuses (finding 7) ----

test.serial('junk strategic-merge directives are a 400 and change nothing', async (t) => {
  await c.ok(['create', 'deployment', 'web', '--image=nginx']);
  const before = (await send(c.admin, 'GET', '/apis/apps/v1/namespaces/default/deployments/web')).body;
  const cases: [string, RegExp][] = [
    ['{"spec":{"$patch":"nonsense"}}', /^unknown patch type: nonsense in map: map\[\$patch:nonsense\]$/],
    ['{"spec":{"template":{"spec":{"containers":[{"name":"web","$patch":"junk"}]}}}}', /^unknown patch type: junk in map: map\[\$patch:junk name:web\]$/],
    ['{"spec":{"template":{"spec":{"$setElementOrder/containers":"web"}}}}', /^invalid patch format of setElementOrder list$/],
    ['{"spec":{"template":{"spec":{"$setElementOrder/":[]}}}}', /^invalid patch format of setElementOrder list$/],
    ['{"spec":{"strategy":{"$retainKeys":"type","type":"Recreate"}}}', /^invalid patch format of retainKeys$/],
    ['{"spec":{"strategy":{"$retainKeys":[1],"type":"Recreate"}}}', /^invalid patch format of retainKeys$/],
    ['{"spec":{"strategy":{"$retainKeys":["rollingUpdate"],"type":"Recreate"}}}', /^invalid patch format of retainKeys$/],
    ['{"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}}', /^invalid patch format of primitive list$/],
    ['{"metadata":{"$deleteFromPrimitiveList/":["a"]}}', /^invalid patch format of primitive list$/],
  ];
  for (const [patch, message] of cases) {
    const r = await send(c.admin, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/web', patch, 'application/strategic-merge-patch+json');
    t.is(r.status, 400, patch);
    t.is(r.body.reason, 'BadRequest', patch);
    t.regex(String(r.body.message), message, patch);
  }
  const after = (await send(c.admin, 'GET', '/apis/apps/v1/namespaces/default/deployments/web')).body;
  // the Deployment controller writes status meanwhile: compare what a patch could have stored
  const written = (o: typeof before) => ({
    spec: o.spec,
    generation: o.metadata.generation,
    labels: o.metadata.labels,
    annotations: o.metadata.annotations,
    finalizers: o.metadata.finalizers,
  });
  t.deepEqual(written(after), written(before), 'nothing stored');
  // any other "$..." key is no directive upstream but a field like any other: unknown here
  const strict = await send(
    c.admin,
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/web?fieldValidation=Strict',
    '{"spec":{"$foo":"x"}}',
    'application/strategic-merge-patch+json',
  );
  t.is(strict.status, 400);
  t.regex(String(strict.body.message), /strict decoding error: unknown field "spec\.\$foo"/);
  const warned = await send(
    c.admin,
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/web',
    '{"spec":{"$foo":"x"}}',
    'application/strategic-merge-patch+json',
  );
  t.is(warned.status, 200);
  t.true(
    warned.warnings.some((w) => w.includes('spec.$foo')),
    warned.warnings.join('|'),
  );
  // the directives that are right still work: retainKeys naming every patched key, an element order
  const ok = await send(
    c.admin,
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/web',
    '{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"name":"nginx","image":"nginx:2"}]}}}}',
    'application/strategic-merge-patch+json',
  );
  t.is(ok.status, 200, ok.body.message);
  t.deepEqual(ok.body.spec.strategy, { type: 'Recreate' });
  t.is(ok.body.spec.template.spec.containers[0].image, 'nginx:2');
  await c.ok(['delete', 'deployment', 'web']);
});

test.serial('the control-plane process lets no prototype gain members and keeps "__proto__" an ordinary key', (t) => {
  for (const p of [Object.prototype, Array.prototype, Function.prototype]) t.false(Object.isExtensible(p));
  const o: Record<string, unknown> = {};
  o['__proto__'] = { polluted: 'yes' };
  t.true(Object.hasOwn(o, '__proto__'), 'an assignment stores a key, as Go would');
  t.is(Object.getPrototypeOf(o), Object.prototype);
  t.throws(() => Object.defineProperty(Object.prototype, 'polluted', { value: 'yes' }), { instanceOf: TypeError });
  // members stay writable on derived objects (no override mistake): what protobufjs relies on
  const f = function named() {};
  f.toString = () => 'mine';
  t.is(String(f), 'mine');
});
