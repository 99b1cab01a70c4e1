// The fuzz suite's generators (the leading underscore keeps ava from running it): random and
// adversarial HTTP requests for the API server, built as exact bytes so that what no client library
// would send (duplicate and __proto__ keys, invalid UTF-8, nesting past any limit, bad escapes)
// reaches the server as written.
import fc from 'fast-check';

/** The namespace and the kinds the fuzz suite works in; each has a fixture object named fz-<plural>. */
export const NS = 'fuzz';
export interface Kind {
  prefix: string;
  plural: string;
  kind: string;
  apiVersion: string;
  template: (name: string) => Record<string, unknown>;
}
const labels = { app: 'fz' };
const podSpec = { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: 'b' }] }] };
export const KINDS: Kind[] = [
  { prefix: '/api/v1', plural: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', template: (name) => ({ metadata: { name, labels }, data: { k: 'v' } }) },
  { prefix: '/api/v1', plural: 'secrets', kind: 'Secret', apiVersion: 'v1', template: (name) => ({ metadata: { name }, type: 'Opaque', data: { k: 'dg==' } }) },
  { prefix: '/api/v1', plural: 'pods', kind: 'Pod', apiVersion: 'v1', template: (name) => ({ metadata: { name, labels }, spec: podSpec }) },
  {
    prefix: '/api/v1',
    plural: 'services',
    kind: 'Service',
    apiVersion: 'v1',
    template: (name) => ({ metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } }),
  },
  {
    prefix: '/apis/apps/v1',
    plural: 'deployments',
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    template: (name) => ({ metadata: { name }, spec: { replicas: 0, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: podSpec } } }),
  },
];
export const fixture = (k: Kind) => ({ apiVersion: k.apiVersion, kind: k.kind, ...k.template(`fz-${k.plural}`) });

/** A JSON document as written: objects are entry lists, so keys may repeat or be "__proto__". */
export type Doc = null | boolean | string | { num: string } | Doc[] | { entries: [string, Doc][] } | { deep: number; open: string; leaf: Doc };

export function render(d: Doc): string {
  // iterative enough: only `deep` nodes nest far, and they are rendered by repetition
  if (d === null || typeof d === 'boolean') return String(d);
  if (typeof d === 'string') return JSON.stringify(d);
  if (Array.isArray(d)) return `[${d.map(render).join(',')}]`;
  if ('num' in d) return d.num;
  if ('deep' in d) {
    const close = d.open === '[' ? ']' : '}';
    return d.open.repeat(d.deep) + render(d.leaf) + close.repeat(d.deep);
  }
  return `{${d.entries.map(([k, v]) => `${JSON.stringify(k)}:${render(v)}`).join(',')}}`;
}

/** A plain value as a Doc (templates). */
export function toDoc(v: unknown): Doc {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return { num: String(v) };
  if (Array.isArray(v)) return v.map(toDoc);
  return { entries: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toDoc(x)]) };
}

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'polluted', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
const FIELD_KEYS = [
  'metadata',
  'name',
  'namespace',
  'labels',
  'annotations',
  'spec',
  'status',
  'data',
  'containers',
  'initContainers',
  'volumes',
  'ports',
  'env',
  'image',
  'replicas',
  'selector',
  'template',
  'matchLabels',
  'resourceVersion',
  'uid',
  'finalizers',
  'ownerReferences',
  'managedFields',
  'generateName',
  'deletionTimestamp',
  'type',
  'containerPort',
  'tolerations',
  'resources',
  'limits',
  'requests',
  'kind',
  'apiVersion',
];
const DIRECTIVES = ['$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', '$setElementOrder/ports'];

export const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 4, arbitrary: fc.constantFrom(...FIELD_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom(...DIRECTIVES) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
);

const NUMBERS = [
  '0',
  '-1',
  '1.5',
  '1e20',
  '1e400',
  '-1e400',
  '2147483648',
  '9223372036854775808',
  '18446744073709551616',
  '1e-400',
  '0.1e1',
  '-0',
  '123456789012345678901234567890',
];
const STRINGS = [
  '',
  'busybox',
  'Always',
  'TCP',
  'a'.repeat(300),
  '0x10',
  '1e400',
  'null',
  '__proto__',
  '\u0000',
  '\ud800',
  '💥',
  'Ω'.repeat(70),
  '../..',
  'a/b',
  'delete',
  'replace',
  'merge',
  '1Gi',
  '-1',
  'NaN',
];

export const leaf: fc.Arbitrary<Doc> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(...STRINGS),
  fc.string({ unit: 'grapheme', maxLength: 16 }),
  fc.constantFrom(...NUMBERS).map((num) => ({ num })),
  fc.integer().map((n) => ({ num: String(n) })),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => ({ num: JSON.stringify(n) })),
);

/** Nesting around the server's limit (1000), upstream's (10000), and far past both. */
export const deep: fc.Arbitrary<Doc> = fc.record({
  deep: fc.oneof(
    fc.integer({ min: 990, max: 1_010 }),
    fc.integer({ min: 9_990, max: 10_010 }),
    fc.integer({ min: 10_001, max: 40_000 }),
    fc.integer({ min: 1, max: 3_000 }),
  ),
  open: fc.constantFrom('[', '{"a":', '{"__proto__":', '{"metadata":', '{"spec":'),
  leaf,
});

export const doc: fc.Arbitrary<Doc> = fc.letrec<{ v: Doc }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 5, arbitrary: leaf },
    { weight: 2, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    { weight: 3, arbitrary: fc.array(fc.tuple(key, tie('v')), { maxLength: 4 }).map((entries) => ({ entries })) },
    { weight: 1, arbitrary: deep },
  ),
})).v;

/** A path into an object: known field names, proto keys, indexes, and the known ways into a prototype. */
const pathArb = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.oneof(key, fc.constantFrom('0', '1', '-', '99')), { minLength: 1, maxLength: 5 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<string[]>(
      ['__proto__', 'polluted'],
      ['metadata', 'labels', '__proto__', 'polluted'],
      ['constructor', 'prototype', 'polluted'],
      ['spec', '__proto__', 'resources'],
    ),
  },
);

/** Sets a value at a path of a Doc, making objects on the way (an index into a list replaces or appends). */
export function inject(d: Doc, path: string[], v: Doc): Doc {
  if (path.length === 0) return v;
  const [head, ...rest] = path;
  if (Array.isArray(d)) {
    const i = Number(head);
    const out = [...d];
    if (Number.isInteger(i) && i >= 0 && i < out.length) out[i] = inject(out[i], rest, v);
    else out.push(inject(null, rest, v));
    return out;
  }
  const entries: [string, Doc][] = d !== null && typeof d === 'object' && 'entries' in d ? [...d.entries] : [];
  const at = entries.findIndex(([k]) => k === head);
  if (at >= 0) entries[at] = [head, inject(entries[at][1], rest, v)];
  else entries.push([head, inject(null, rest, v)]);
  return { entries };
}

/** A template of the kind with up to three values planted at random paths. */
export const mutated = (base: Doc): fc.Arbitrary<Doc> =>
  fc.array(fc.tuple(pathArb, doc), { maxLength: 3 }).map((muts) => muts.reduce((acc, [p, v]) => inject(acc, p, v), base));

const nameArb = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.constantFrom('', '..', '__proto__', 'constructor', 'a'.repeat(300), 'UPPER', 'a_b', 'fz-configmaps', 'fz-pods'),
);

/** cluster admin, a user with no rights, and a node credential (Node authorizer, NodeRestriction) */
export type Who = 'admin' | 'user' | 'node';
export const NODE = 'fz-node';
export interface FuzzCase {
  who: Who;
  /** the fuzz kind (plural) the request writes to, if known: only its objects are compared */
  kind?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

// the admin reaches the most code; the others mostly meet authorization, so they get fewer cases
const who = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Who>('admin') },
  { weight: 1, arbitrary: fc.constant<Who>('user') },
  { weight: 1, arbitrary: fc.constant<Who>('node') },
);

/** How fast-check prints a case in a report: long bodies (deep nesting) shortened, invalid UTF-8 shown. */
export function describe(c: FuzzCase): string {
  const b = c.body?.toString('utf8') ?? '';
  const body = b.length > 400 ? `${b.slice(0, 200)}…(${b.length} chars)…${b.slice(-100)}` : b;
  return `${c.who} ${c.method} ${c.path.length > 300 ? `${c.path.slice(0, 300)}…` : c.path} ${JSON.stringify(c.headers).slice(0, 300)} ${JSON.stringify(body)}`;
}
export const described = (c: FuzzCase): FuzzCase => Object.assign(c, { [fc.toStringMethod]: () => describe(c) });
const kindArb = fc.constantFrom(...KINDS);
const collection = (k: Kind) => `${k.prefix}/namespaces/${NS}/${k.plural}`;

/** Bytes of a document, sometimes with invalid UTF-8 spliced in. */
const bytes = (text: string): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(Buffer.from(text)) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 6 })).map(([at, junk]) => {
        const b = Buffer.from(text);
        const i = b.length ? at % b.length : 0;
        return Buffer.concat([b.subarray(0, i), Buffer.from(junk), b.subarray(i)]);
      }),
    },
  );

/** Create and update bodies: each kind's object with planted values, or any document at all. */
export const bodyCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    who,
    kindArb,
    nameArb,
    fc.constantFrom('POST', 'PUT'),
    fc.constantFrom('application/json', 'application/yaml', 'application/json', 'text/plain', 'application/vnd.kubernetes.protobuf'),
    fc.boolean(),
  )
  .chain(([w, k, name, method, ct, whole]) => {
    const base = toDoc({ apiVersion: k.apiVersion, kind: k.kind, ...k.template(name) });
    return (whole ? mutated(base) : doc)
      .map(render)
      .chain(bytes)
      .map(
        (body): FuzzCase => ({
          who: w,
          kind: k.plural,
          method,
          path: method === 'POST' ? collection(k) : `${collection(k)}/${encodeURIComponent(name || 'x')}`,
          headers: { 'content-type': ct },
          body,
        }),
      );
  });

const ATTACKS = [
  '/__proto__/polluted',
  '/metadata/labels/__proto__/polluted',
  '/constructor/prototype/polluted',
  '/__proto__/resources',
  '/metadata/__proto__/apiGroups',
  '/spec/containers/0/__proto__/polluted',
  '/data/constructor/prototype/verbs',
];
/** Subresource bodies: Scale, Eviction, Binding and status writes, each from a valid template with planted values. */
const SUBRESOURCES: { kind: Kind; method: string; sub: string; body: Record<string, unknown> }[] = [
  {
    kind: KINDS[4],
    method: 'PUT',
    sub: 'scale',
    body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'fz-deployments' }, spec: { replicas: 1 } },
  },
  {
    kind: KINDS[2],
    method: 'POST',
    sub: 'eviction',
    body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'fz-pods' }, deleteOptions: { gracePeriodSeconds: 30, preconditions: { uid: 'x' } } },
  },
  {
    kind: KINDS[2],
    method: 'POST',
    sub: 'binding',
    body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'fz-pods' }, target: { kind: 'Node', name: 'fz-node' } },
  },
  {
    kind: KINDS[2],
    method: 'PUT',
    sub: 'status',
    body: {
      ...fixture(KINDS[2]),
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'i', imageID: '' }],
      },
    },
  },
  {
    kind: KINDS[4],
    method: 'PUT',
    sub: 'status',
    body: { ...fixture(KINDS[4]), status: { replicas: 1, readyReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] } },
  },
];
export const subresourceCase: fc.Arbitrary<FuzzCase> = fc.tuple(who, fc.constantFrom(...SUBRESOURCES), fc.constantFrom('', '?dryRun=All')).chain(([w, s, qs]) =>
  mutated(toDoc(s.body))
    .map(render)
    .chain(bytes)
    .map(
      (body): FuzzCase => ({
        who: w,
        kind: s.kind.plural,
        method: s.method,
        path: `${collection(s.kind)}/fz-${s.kind.plural}/${s.sub}${qs}`,
        headers: { 'content-type': 'application/json' },
        body,
      }),
    ),
);

const pointer = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.array(fc.oneof(key, fc.constantFrom('0', '-', '1', '~0', '~1', 'a~1b')), { maxLength: 5 }).map((segs) => segs.map((s) => `/${s}`).join('')),
  },
  { weight: 2, arbitrary: fc.constantFrom(...ATTACKS) },
);
const jsonPatchOp: fc.Arbitrary<Doc> = fc
  .record({
    op: fc.constantFrom('add', 'add', 'add', 'replace', 'replace', 'remove', 'test', 'move', 'copy', 'junk'),
    path: pointer,
    from: pointer,
    value: doc,
  })
  .map((o) => ({
    entries: [
      ['op', o.op],
      ['path', o.path],
      ['from', o.from],
      ['value', o.value],
    ] as [string, Doc][],
  }));

/** Patches of all four content types against each kind's fixture (or a missing object). */
export const patchCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    who,
    kindArb,
    fc.constantFrom('json', 'merge', 'strategic', 'apply'),
    fc.boolean(),
    fc.constantFrom('', '?fieldManager=fz', '?fieldManager=fz&force=true', '?dryRun=All&fieldManager=fz', '?fieldValidation=Strict&fieldManager=fz'),
  )
  .chain(([w, k, type, status, qs]) => {
    const fx = toDoc(fixture(k));
    const body: fc.Arbitrary<Doc> =
      type === 'json' ? fc.oneof(fc.array(jsonPatchOp, { maxLength: 4 }), doc) : type === 'apply' ? mutated(fx) : fc.oneof(mutated({ entries: [] }), doc);
    const ct = {
      json: 'application/json-patch+json',
      merge: 'application/merge-patch+json',
      strategic: 'application/strategic-merge-patch+json',
      apply: 'application/apply-patch+yaml',
    }[type];
    // a node patches its own Node (the issue's pollution vector); the others the kind's fixture
    const target = w === 'node' ? `/api/v1/nodes/${NODE}` : `${collection(k)}/fz-${k.plural}`;
    return body
      .map(render)
      .chain(bytes)
      .map(
        (b): FuzzCase => ({
          who: w,
          kind: w === 'node' ? 'nodes' : k.plural,
          method: 'PATCH',
          path: `${target}${status ? '/status' : ''}${qs}`,
          headers: { 'content-type': ct },
          body: b,
        }),
      );
  });

const SEGMENTS = [
  'api',
  'apis',
  'v1',
  'apps',
  'v2',
  'namespaces',
  NS,
  'default',
  'kube-system',
  'pods',
  'configmaps',
  'deployments',
  'nodes',
  'secrets',
  'status',
  'scale',
  'binding',
  'eviction',
  'log',
  'exec',
  'proxy',
  'finalize',
  'watch',
  'fz-pods',
  'fz-configmaps',
  'fz-deployments',
  '..',
  '.',
  '%2e%2e',
  '%2F',
  '%zz',
  '%',
  '%f',
  '%ff',
  '%00',
  '%E0%A4%A',
  '%C0%AF',
  'nonexistent.example.com',
  'x.y.z',
  '',
  'a'.repeat(300),
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'openapi',
  'version',
  'healthz',
  'readyz',
  'metrics',
  'v3',
];
const segment = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...SEGMENTS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }).map(encodeURIComponent) },
);

/** Arbitrary paths and methods: unknown groups, resources and subresources, odd names, escapes. */
export const pathCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    who,
    fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
    fc.array(segment, { minLength: 1, maxLength: 8 }),
    fc.constantFrom('', '{}', '{"metadata":{"name":"x"}}', '[]', 'null'),
  )
  .map(([w, method, segs, body]) => ({
    who: w,
    method,
    path: `/${segs.join('/')}`,
    headers: { 'content-type': 'application/json' },
    body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(body),
  }));

const PARAMS = [
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'watch',
  'allowWatchBookmarks',
  'sendInitialEvents',
  'timeoutSeconds',
  'labelSelector',
  'fieldSelector',
  'pretty',
  'includeObject',
  'fieldValidation',
  'dryRun',
  'fieldManager',
  'force',
  'gracePeriodSeconds',
  'propagationPolicy',
  'orphanDependents',
  'container',
  'follow',
  'tailLines',
  '__proto__',
  'constructor',
];
const VALUES = [
  '',
  'abc',
  '1.5',
  '1e400',
  '-1',
  '0',
  '1',
  '0x10',
  'true',
  'True',
  'yes',
  'FALSE',
  '99999999999999999999',
  '%',
  '=',
  '!',
  'a=b,c!=d',
  'a in (x,y)',
  'a notin ()',
  '!a',
  'a,,b',
  'metadata.name=x',
  'metadata.name==x',
  'spec.nodeName=',
  'status.phase!=Running',
  'x.y=z',
  'NaN',
  'Infinity',
  '[]',
  '{}',
  '__proto__',
  'Exact',
  'NotOlderThan',
  'bogus',
  'All',
  'None',
  'Strict',
  'Warn',
  'Ignore',
  'Orphan',
  'Foreground',
  'Background',
  'Object',
  'a'.repeat(300),
  'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6OTk5OTk5LCJzdGFydCI6ImEifQ',
  'eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiIuLi8uLi8ifQ',
];
const param = fc.tuple(
  fc.constantFrom(...PARAMS),
  fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...VALUES) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) }),
);

/** Every list, watch, get and write parameter with junk values; a watch is always bounded to 1 s. */
export const queryCase: fc.Arbitrary<FuzzCase> = fc
  // watches last their second: fewer of them, so more of the other shapes fit in the time
  .tuple(
    who,
    kindArb,
    fc.constantFrom('list', 'list', 'list', 'get', 'get', 'watch', 'legacywatch', 'write', 'write', 'delete', 'deletecollection'),
    fc.array(param, { minLength: 1, maxLength: 5 }),
  )
  .map(([w, k, shape, params]) => {
    const q = new URLSearchParams();
    for (const [p, v] of params) q.append(p, v);
    // a watch must end: a valid timeoutSeconds becomes 1, a junk one stays to be refused
    const ts = q.get('timeoutSeconds');
    q.delete('timeoutSeconds');
    q.set('timeoutSeconds', ts !== null && !/^[+-]?[0-9]+$/.test(ts) ? ts : '1');
    const base = collection(k);
    const path = {
      list: base,
      get: `${base}/fz-${k.plural}`,
      watch: base,
      legacywatch: base.replace(`/namespaces/`, '/watch/namespaces/'),
      write: `${base}/fz-${k.plural}`,
      delete: `${base}/fz-${k.plural}`,
      deletecollection: base,
    }[shape];
    if (shape === 'watch') q.set('watch', 'true');
    const method = { write: 'PATCH', delete: 'DELETE', deletecollection: 'DELETE' }[shape as string] ?? 'GET';
    return {
      who: w,
      kind: k.plural,
      method,
      path: `${path}?${q.toString()}`,
      headers: { 'content-type': 'application/merge-patch+json' },
      body: method === 'PATCH' ? Buffer.from('{"metadata":{"labels":{"fz":"q"}}}') : undefined,
    };
  });

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const HEADER_VALUES: Record<string, string[]> = {
  'content-type': [
    'application/json',
    'application/yaml',
    'application/vnd.kubernetes.protobuf',
    'text/plain',
    '',
    'application/json; charset=utf-16',
    'application/merge-patch+json',
    '*/*',
    'multipart/form-data; boundary=x',
    'application/json;;;',
    'APPLICATION/JSON',
    'application/apply-patch+yaml',
  ],
  accept: [
    'application/json;as=Table;g=meta.k8s.io;v=v1',
    'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
    'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    'application/vnd.kubernetes.protobuf',
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    'text/html',
    '*/*;q=0',
    ',,,',
    'application/json;as=Table;v=v9',
    'application/json;as',
    'application/json;=;=',
    'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
    '',
  ],
  'impersonate-user': ['', 'system:admin', 'someone', 'system:node:x', '__proto__'],
  'impersonate-group': ['system:masters', '', 'system:nodes'],
  'impersonate-uid': ['', 'x'],
  'impersonate-extra-scopes': ['a', ''],
  'user-agent': ['kubectl/v1.35', '', '/', 'x'.repeat(2000)],
  'content-encoding': ['gzip', 'br', 'identity'],
  'x-forwarded-for': ['1.1.1.1', 'junk'],
  'transfer-encoding': ['identity'],
};

/** Odd and huge headers on ordinary requests. */
export const headerCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    who,
    kindArb,
    fc.constantFrom('GET', 'POST', 'PATCH', 'GET'),
    fc.dictionary(fc.constantFrom(...Object.keys(HEADER_VALUES)), fc.oneof(printable, fc.constant('')), { maxKeys: 3, noNullPrototype: true }),
    fc.array(fc.tuple(fc.constantFrom(...Object.keys(HEADER_VALUES)), fc.nat()), { maxLength: 3 }),
    fc.option(fc.integer({ min: 1_000, max: 12_000 })),
  )
  .map(([w, k, method, random, picks, huge]) => {
    const headers: Record<string, string> = {};
    for (const [h, i] of picks) headers[h] = HEADER_VALUES[h][i % HEADER_VALUES[h].length];
    Object.assign(headers, random);
    if (huge) headers['x-huge'] = 'h'.repeat(huge);
    delete headers['transfer-encoding'];
    const body =
      method === 'GET'
        ? undefined
        : Buffer.from(
            method === 'POST' ? render(toDoc({ apiVersion: k.apiVersion, kind: k.kind, ...k.template('hdr') })) : '{"metadata":{"labels":{"h":"1"}}}',
          );
    return { who: w, kind: k.plural, method, path: method === 'POST' ? collection(k) : `${collection(k)}/fz-${k.plural}`, headers, body };
  });
