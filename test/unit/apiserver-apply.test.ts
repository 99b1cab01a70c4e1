import test from 'ava';
import { fieldMapOf, fromFieldsV1, pathKey, toFieldsV1 } from '../../agents/control-plane/apiserver/apply/fields.ts';
import { applyConfig, renderPath, trackUpdate } from '../../agents/control-plane/apiserver/apply/managed.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';

const now = new Date('2025-01-01T00:00:00Z');
const w = (manager: string) => ({ manager, apiVersion: 'apps/v1', now });

const deployment = (replicas: number, image: string, extra: Record<string, unknown> = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image, ...extra }] } },
  },
});

test('field paths: struct fields, map keys, keyed list elements, sets; server fields left out', (t) => {
  const m = fieldMapOf(
    { ...deployment(2, 'a'), metadata: { name: 'web', uid: 'u', resourceVersion: '1', labels: { app: 'web' }, finalizers: ['x'] } },
    'V1Deployment',
  );
  const keys = [...m.keys()];
  t.true(keys.includes(pathKey(['f:spec', 'f:replicas'])));
  t.is(m.get(pathKey(['f:spec', 'f:replicas'])), '2');
  t.is(m.get(pathKey(['f:metadata', 'f:labels'])), null, 'a map is a member itself');
  t.true(keys.includes(pathKey(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image'])));
  t.true(keys.includes(pathKey(['f:metadata', 'f:finalizers', 'v:"x"'])));
  t.false(keys.some((k) => k.includes('f:uid') || k.includes('f:resourceVersion') || (k.includes('f:name"]') && k.includes('f:metadata'))));
  t.false(keys.some((k) => k.includes('apiVersion') || k.includes('"f:kind"')));
});

test('FieldsV1 round-trips and marks members with children with "."', (t) => {
  const paths = [...fieldMapOf(deployment(1, 'a'), 'V1Deployment').keys()];
  const f = toFieldsV1(paths) as any;
  t.deepEqual(f['f:metadata']['f:labels'], { '.': {}, 'f:app': {} });
  t.deepEqual(Object.keys(f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"c"}'])[0], '.');
  t.deepEqual([...fromFieldsV1(f)].sort(), [...paths].sort());
});

test('updates: the writer takes over what it changed; removed fields leave every set', (t) => {
  const created = deployment(1, 'a');
  created.metadata.managedFields = trackUpdate(undefined, created, 'V1Deployment', w('kubectl-create'));
  t.is(created.metadata.managedFields.length, 1);
  t.like(created.metadata.managedFields[0], {
    manager: 'kubectl-create',
    operation: 'Update',
    apiVersion: 'apps/v1',
    fieldsType: 'FieldsV1',
    time: '2025-01-01T00:00:00Z',
  });
  const scaled = structuredClone(created);
  scaled.spec.replicas = 3;
  delete scaled.metadata.labels;
  scaled.metadata.managedFields = trackUpdate(created, scaled, 'V1Deployment', w('kubectl-scale'));
  const [c, s] = scaled.metadata.managedFields as any[];
  t.is(s.manager, 'kubectl-scale');
  t.deepEqual(s.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  t.is(c.fieldsV1['f:spec']['f:replicas'], undefined);
  t.is(c.fieldsV1['f:metadata'], undefined, 'labels were removed: nobody owns them');
  // a no-op write changes nothing, not even the time
  const again = trackUpdate(scaled, structuredClone(scaled), 'V1Deployment', { ...w('kubectl-scale'), now: new Date('2030-01-01T00:00:00Z') });
  t.deepEqual(again, scaled.metadata.managedFields);
});

test("apply: conflicts with another manager's differing value, unless forced; equal values are shared", (t) => {
  const first = applyConfig(undefined, deployment(2, 'a'), 'V1Deployment', { ...w('ci'), force: false });
  t.deepEqual(first.conflicts, []);
  const live = structuredClone(first.obj);
  live.spec.replicas = 5;
  live.metadata.managedFields = trackUpdate(first.obj, live, 'V1Deployment', w('hpa'));
  const clash = applyConfig(live, deployment(2, 'b'), 'V1Deployment', { ...w('ci'), force: false });
  t.deepEqual(
    clash.conflicts.map((c) => [c.manager, renderPath(c.path)]),
    [['hpa', '.spec.replicas']],
  );
  const shared = applyConfig(live, deployment(5, 'b'), 'V1Deployment', { ...w('ci'), force: false });
  t.deepEqual(shared.conflicts, []);
  t.is(shared.obj.spec.template.spec.containers[0].image, 'b');
  const forced = applyConfig(live, deployment(2, 'b'), 'V1Deployment', { ...w('ci'), force: true });
  t.is(forced.obj.spec.replicas, 2);
  t.deepEqual(
    (forced.obj.metadata.managedFields as any[]).map((e) => e.manager),
    ['ci'],
    'hpa lost its only field',
  );
});

test('apply: fields the applier stops setting are removed unless another manager owns them', (t) => {
  const v1 = applyConfig(
    undefined,
    deployment(1, 'a', {
      args: ['x'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
    }),
    'V1Deployment',
    { ...w('ci'), force: false },
  ).obj;
  const other = structuredClone(v1);
  other.metadata.annotations = { note: 'kept' };
  other.metadata.managedFields = trackUpdate(v1, other, 'V1Deployment', w('kubectl-annotate'));
  const v2 = applyConfig(other, deployment(1, 'a', { env: [{ name: 'A', value: '1' }] }), 'V1Deployment', { ...w('ci'), force: false }).obj;
  const c = v2.spec.template.spec.containers[0];
  t.is(c.args, undefined);
  t.deepEqual(c.env, [{ name: 'A', value: '1' }]);
  t.deepEqual(v2.metadata.annotations, { note: 'kept' });
  t.is(renderPath(pathKey(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"c"}', 'f:image'])), '.spec.template.spec.containers[name="c"].image');
});
