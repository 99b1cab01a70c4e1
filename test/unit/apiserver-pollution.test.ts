// Every entry point that takes client-chosen keys (decoding, JSON/merge/strategic patches,
// server-side apply and its field sets, selectors, reviews, the authorizer) run with "__proto__",
// "constructor" and "prototype" at every depth of a Deployment: Object.prototype and its friends
// stay untouched and only the API's own errors are thrown (issue 24, finding 1).
import test, { type ExecutionContext } from 'ava';
import YAML from 'yaml';
import { fieldMapOf, fromFieldsV1, pathKey, toFieldsV1 } from '../../agents/control-plane/apiserver/apply/fields.ts';
import { applyConfig, trackUpdate } from '../../agents/control-plane/apiserver/apply/managed.ts';
import { applyMerge, pruneEmpty, removePath } from '../../agents/control-plane/apiserver/apply/merge.ts';
import { decodeBody } from '../../agents/control-plane/apiserver/body.ts';
import { duplicateFields } from '../../agents/control-plane/apiserver/duplicates.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import { applyPatch } from '../../agents/control-plane/apiserver/patch/apply.ts';
import { jsonPatch, PatchError } from '../../agents/control-plane/apiserver/patch/json.ts';
import { listPatchMeta } from '../../agents/control-plane/apiserver/patch/meta.ts';
import { type Json, mergePatch } from '../../agents/control-plane/apiserver/patch/merge.ts';
import { strategicMergePatch } from '../../agents/control-plane/apiserver/patch/strategic.ts';
import { conform } from '../../agents/control-plane/apiserver/schema.ts';
import {
  fromLabelSelector,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../agents/control-plane/apiserver/selectors.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { nodeAdmission } from '../../agents/control-plane/auth/node.ts';
import { reviewAttributes } from '../../agents/control-plane/auth/reviews.ts';
import { ruleAllows, StaticRuleAuthorizer } from '../../agents/control-plane/auth/rules.ts';
import { parseSchedule } from '../../agents/control-plane/controllers/workloads/cron.ts';
import { protoChanges } from './_prototypes.ts';

test.afterEach.always(() => {
  protoChanges();
});

const KEYS = ['__proto__', 'constructor', 'prototype'];
/** Where in a Deployment the hostile keys go: structs, maps, a list element's struct. */
const PREFIXES = [
  [],
  ['metadata'],
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['spec'],
  ['spec', 'selector', 'matchLabels'],
  ['spec', 'template'],
  ['spec', 'template', 'spec'],
  ['status'],
];
/** Every sequence of one to three hostile keys. */
const CHAINS: string[][] = [];
for (const a of KEYS) {
  CHAINS.push([a]);
  for (const b of KEYS) {
    CHAINS.push([a, b]);
    for (const c of KEYS) CHAINS.push([a, b, c]);
  }
}

/** An own, enumerable data property, as JSON.parse makes one (also for "__proto__"). */
function put(o: Record<string, Json>, k: string, v: Json): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

const leaf = (): Json => ({ polluted: 'yes', resources: ['*'], apiGroups: ['*'], verbs: ['*'], toString: 'x' });

/** A copy of base with leaf() set at path, made of own properties only. */
function attach(base: Record<string, Json>, path: string[]): Obj {
  const root = structuredClone(base) as Obj;
  let node: Record<string, Json> = root;
  path.forEach((k, i) => {
    if (i === path.length - 1) return put(node, k, leaf());
    const own = Object.prototype.hasOwnProperty.call(node, k) ? node[k] : undefined;
    const next: Record<string, Json> = typeof own === 'object' && own !== null && !Array.isArray(own) ? own : {};
    put(node, k, next);
    node = next;
  });
  return root;
}

const deployment = (): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { a: 'b' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  },
});
const now = new Date('2025-01-01T00:00:00Z');
const writer = (manager: string) => ({ manager, apiVersion: 'apps/v1', now, force: true });

/** Runs one entry point: it may refuse with the API's own errors, never crash or pollute. */
function check(t: ExecutionContext, what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    t.true(e instanceof ApiError || e instanceof PatchError || e instanceof SelectorError, `${what}: ${(e as Error).stack}`);
  }
  t.deepEqual(protoChanges(), [], what);
  t.is(({} as Record<string, unknown>).polluted, undefined, what);
}

const CASES = PREFIXES.flatMap((p) => CHAINS.map((c) => [...p, ...c]));

test('decoding JSON and YAML bodies, typed decoding and duplicate scans', (t) => {
  for (const path of CASES) {
    const obj = attach(deployment(), path);
    const json = Buffer.from(JSON.stringify(obj));
    const yaml = Buffer.from(YAML.stringify(obj));
    t.true(yaml.toString().includes(path[path.length - 1]), 'the YAML names the key');
    for (const [body, ct] of [
      [json, 'application/json'],
      [json, 'application/yaml'],
      [yaml, 'application/yaml'],
      [yaml, 'application/apply-patch+yaml'],
    ] as const) {
      check(t, `decode ${ct} ${path}`, () => {
        const decoded = decodeBody(body, ct) as Obj;
        t.deepEqual(Object.keys(decoded), Object.keys(obj));
        conform(decoded, 'V1Deployment');
      });
      check(t, `duplicates ${ct} ${path}`, () => duplicateFields(body, ct));
    }
  }
});

test('merge and strategic merge patches, directly and through applyPatch', (t) => {
  for (const path of CASES) {
    const patch = attach({}, path);
    check(t, `merge ${path}`, () => mergePatch(deployment(), patch));
    check(t, `strategic ${path}`, () => strategicMergePatch(deployment(), patch, 'V1Deployment'));
    check(t, `applyPatch merge ${path}`, () => applyPatch('merge', deployment(), patch, 'V1Deployment'));
    check(t, `applyPatch strategic ${path}`, () => applyPatch('strategic', deployment(), patch, 'V1Deployment'));
    // the patched object keeps the key as its own, never as its prototype
    const merged = mergePatch(deployment(), patch) as Obj;
    t.is(Object.getPrototypeOf(merged), Object.prototype, `merge ${path}`);
  }
});

test('JSON patch operations on paths through inherited members are missing paths', (t) => {
  for (const path of CASES) {
    const pointer = `/${path.join('/')}`;
    const ops: Record<string, Json>[] = [
      { op: 'add', path: `${pointer}/polluted`, value: 'yes' },
      { op: 'add', path: pointer, value: leaf() },
      { op: 'replace', path: pointer, value: 'x' },
      { op: 'remove', path: pointer },
      { op: 'copy', from: pointer, path: '/metadata/labels/x' },
      { op: 'move', from: pointer, path: '/metadata/labels/x' },
      { op: 'test', path: pointer, value: {} },
    ];
    for (const op of ops) {
      check(t, `json ${JSON.stringify(op)}`, () => jsonPatch(deployment(), [op]));
      check(t, `applyPatch json ${JSON.stringify(op)}`, () => applyPatch('json', deployment(), [op], 'V1Deployment'));
    }
  }
  // an inherited member is not there: the add one level below it has no parent
  const r = t.throws(() => jsonPatch(deployment(), [{ op: 'add', path: '/constructor/prototype/polluted', value: 'yes' }]), { instanceOf: PatchError });
  t.regex(r!.message, /doc is missing path: "\/constructor\/prototype\/polluted"/);
  // and "__proto__" as a map key is an ordinary own key
  const labelled = jsonPatch(deployment(), [{ op: 'add', path: '/metadata/labels/__proto__', value: 'yes' }]) as Obj;
  t.deepEqual(Object.entries(labelled.metadata.labels ?? {}), [
    ['app', 'web'],
    ['__proto__', 'yes'],
  ]);
});

test('server-side apply, managedFields bookkeeping and field sets', (t) => {
  for (const path of CASES) {
    const cfg = attach({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, path);
    const live = deployment();
    check(t, `apply new ${path}`, () => applyConfig(undefined, cfg, 'V1Deployment', writer('a')));
    check(t, `apply and drop ${path}`, () => {
      const first = applyConfig(live, cfg, 'V1Deployment', writer('a')).obj;
      applyConfig(first, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }, 'V1Deployment', writer('a'));
    });
    check(t, `applyMerge ${path}`, () => applyMerge(deployment(), cfg, 'V1Deployment'));
    check(t, `trackUpdate ${path}`, () => trackUpdate(live, attach(live, path), 'V1Deployment', writer('m')));
    check(t, `trackUpdate away ${path}`, () => trackUpdate(attach(live, path), live, 'V1Deployment', writer('m')));
    check(t, `field map ${path}`, () => fromFieldsV1(toFieldsV1(fieldMapOf(attach(live, path), 'V1Deployment').keys())));
    // a client's managedFields: FieldsV1 with hostile keys, plain or f:-prefixed
    check(t, `FieldsV1 ${path}`, () => toFieldsV1(fromFieldsV1(attach({}, path))));
    check(t, `FieldsV1 f: ${path}`, () =>
      toFieldsV1(
        fromFieldsV1(
          attach(
            {},
            path.map((k) => `f:${k}`),
          ),
        ),
      ),
    );
    const withManaged = attach(live, path);
    withManaged.metadata.managedFields = [{ manager: 'x', operation: 'Update', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: attach({}, path) }];
    check(t, `managedFields ${path}`, () => applyConfig(withManaged, cfg, 'V1Deployment', writer('a')));
    check(t, `managedFields update ${path}`, () => trackUpdate(withManaged, live, 'V1Deployment', writer('m')));
    const tokens = path.map((k) => `f:${k}`);
    check(t, `removePath ${path}`, () => {
      const o = deployment();
      removePath(o, pathKey(tokens));
      removePath(o, pathKey([...tokens, 'f:toString']));
      pruneEmpty(o, [pathKey([...tokens, 'f:polluted'])]);
    });
  }
});

test('selectors: "__proto__" is an invalid key, other inherited names are keys nobody has', (t) => {
  const labels = attach({ app: 'web' }, ['__proto__']) as Record<string, string>;
  for (const k of [...KEYS, 'toString', 'hasOwnProperty']) {
    check(t, `label ${k}`, () => {
      const reqs = parseLabelSelector(k);
      t.is(matchLabels(reqs, { app: 'web' }), false, `${k} exists on no plain label set`);
      t.is(matchLabels(parseLabelSelector(`!${k}`), { app: 'web' }), true);
    });
    check(t, `label in ${k}`, () => matchLabels(parseLabelSelector(`${k} in (x)`), labels));
    check(t, `field ${k}`, () => t.false(matchFields(parseFieldSelector(`${k}=x`), { 'metadata.name': 'web' })));
    t.throws(() => fromLabelSelector({ matchExpressions: [{ key: 'app', operator: k }] }), { instanceOf: SelectorError }, `operator ${k}`);
    check(t, `matchLabels object ${k}`, () => matchLabels(fromLabelSelector({ matchLabels: attach({}, [k]) as Record<string, string> }), labels));
  }
  t.throws(() => parseLabelSelector('__proto__'), { instanceOf: SelectorError });
});

test("the authorizer decides on the rules' and the review's own fields only", (t) => {
  const mallory = { name: 'mallory', groups: ['system:authenticated'] };
  const attrs = (verb: string, resource: string, subresource = '') => ({
    user: mallory,
    verb,
    resourceRequest: true,
    path: '',
    apiGroup: '',
    resource,
    subresource,
    namespace: 'default',
    name: 'p',
  });
  const z = new StaticRuleAuthorizer();
  const proto = Object.prototype as Record<string, unknown>;
  // as if something had polluted the prototype: a rule that lacks a field must not inherit one
  for (const [k, v] of Object.entries({
    resources: ['*'],
    apiGroups: ['*'],
    verbs: ['*'],
    nonResourceURLs: ['*'],
    resourceRequest: false,
    verb: 'get',
    resource: 'secrets',
  }))
    proto[k] = v;
  try {
    t.is(z.authorize(attrs('get', 'secrets')).decision, 'noOpinion');
    t.is(z.authorize(attrs('create', 'pods', 'exec')).decision, 'noOpinion');
    t.false(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/healthz'] }, attrs('get', 'secrets')));
    t.false(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, { ...attrs('get', 'pods'), path: '/metrics', resourceRequest: false }));
    const a = reviewAttributes('SelfSubjectAccessReview', { resourceAttributes: {} }, mallory);
    t.is(a.verb, '');
    t.is(a.resource, '');
    t.is(z.authorize(a).decision, 'noOpinion');
    t.throws(() => reviewAttributes('SelfSubjectAccessReview', {}, mallory), { instanceOf: ApiError });
    const node = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
    proto['kubernetes.io/config.mirror'] = 'yes';
    const refused = nodeAdmission({ ...attrs('create', 'pods'), user: node }, { metadata: { name: 'p', annotations: {} }, spec: { nodeName: 'n1' } });
    t.truthy(refused, 'an inherited mirror annotation does not make a mirror pod');
  } finally {
    t.true(protoChanges().length > 0);
  }
});

test('lookup tables keyed by client strings see only their own entries', (t) => {
  for (const k of [...KEYS, 'toString', 'hasOwnProperty']) {
    t.is(listPatchMeta('V1PodSpec', k), undefined, `merge-key table, field ${k}`);
    t.is(listPatchMeta(k, 'containers'), undefined, `merge-key table, model ${k}`);
    // a one-word schedule is not a macro: a schedule error, not a TypeError
    const e = t.throws(() => parseSchedule(k, 'UTC'));
    t.regex(e!.message, /expected exactly 5 fields/, k);
  }
});
