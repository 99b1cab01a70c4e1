import test from 'ava';
import { jsonPatch, PatchError } from '../../agents/control-plane/apiserver/patch/json.ts';
import { mergePatch } from '../../agents/control-plane/apiserver/patch/merge.ts';
import { strategicMergePatch } from '../../agents/control-plane/apiserver/patch/strategic.ts';
import { applyPatch } from '../../agents/control-plane/apiserver/patch/apply.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';

const pod = (): any => ({
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x/one'] },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'app:1',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        ports: [{ containerPort: 80 }, { containerPort: 81 }],
      },
      { name: 'side', image: 'side:1' },
    ],
    tolerations: [{ key: 'k', operator: 'Exists' }],
    volumes: [{ name: 'v', emptyDir: {} }],
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'False' },
      { type: 'PodScheduled', status: 'True' },
    ],
  },
});

test('merge patch: maps merge, null deletes, lists replace', (t) => {
  const out = mergePatch(pod(), { metadata: { labels: { a: null, c: '3' } }, spec: { containers: [{ name: 'only' }] } }) as any;
  t.deepEqual(out.metadata.labels, { b: '2', c: '3' });
  t.deepEqual(out.spec.containers, [{ name: 'only' }]);
  t.is(out.spec.tolerations.length, 1);
});

test('json patch: add, remove, replace, move, copy, test', (t) => {
  const out = jsonPatch(pod(), [
    { op: 'add', path: '/metadata/labels/c', value: '3' },
    { op: 'remove', path: '/metadata/labels/a' },
    { op: 'replace', path: '/spec/containers/0/image', value: 'app:2' },
    { op: 'add', path: '/spec/containers/-', value: { name: 'third', image: 't' } },
    { op: 'copy', from: '/metadata/labels/b', path: '/metadata/labels/d' },
    { op: 'move', from: '/metadata/labels/c', path: '/metadata/labels/e' },
    { op: 'test', path: '/metadata/labels/e', value: '3' },
    { op: 'add', path: '/metadata/labels/x~1y', value: 'slash' },
  ]) as any;
  t.deepEqual(out.metadata.labels, { b: '2', d: '2', e: '3', 'x/y': 'slash' });
  t.is(out.spec.containers[0].image, 'app:2');
  t.is(out.spec.containers[2].name, 'third');
  t.throws(() => jsonPatch(pod(), [{ op: 'remove', path: '/metadata/nope' }]), { instanceOf: PatchError });
  t.throws(() => jsonPatch(pod(), [{ op: 'test', path: '/metadata/name', value: 'q' }]), { instanceOf: PatchError });
  t.throws(() => jsonPatch(pod(), [{ op: 'replace', path: '/spec/containers/9/image', value: 'x' }]), { instanceOf: PatchError });
});

test('strategic merge: containers merge by name, env by name, ports by containerPort', (t) => {
  const out = strategicMergePatch(
    pod(),
    {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:2',
            env: [
              { name: 'B', value: '20' },
              { name: 'C', value: '3' },
            ],
          },
          { name: 'new', image: 'n' },
        ],
      },
    },
    'V1Pod',
  ) as any;
  // upstream's element order: the patch's elements in its order, a server-only one after the patch element it followed
  t.deepEqual(
    out.spec.containers.map((c: any) => `${c.name}:${c.image}`),
    ['app:app:2', 'new:n', 'side:side:1'],
  );
  t.deepEqual(out.spec.containers[0].env, [
    { name: 'A', value: '1' },
    { name: 'B', value: '20' },
    { name: 'C', value: '3' },
  ]);
  t.is(out.spec.containers[0].ports.length, 2, 'untouched lists stay');
});

test('strategic merge: atomic lists replace, conditions merge by type, finalizers merge as a set', (t) => {
  const out = strategicMergePatch(
    pod(),
    {
      metadata: { finalizers: ['x/two', 'x/one'] },
      spec: { tolerations: [{ key: 'other', operator: 'Exists' }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    },
    'V1Pod',
  ) as any;
  t.deepEqual(out.spec.tolerations, [{ key: 'other', operator: 'Exists' }]);
  t.deepEqual(out.status.conditions, [
    { type: 'Ready', status: 'True' },
    { type: 'PodScheduled', status: 'True' },
  ]);
  t.deepEqual(out.metadata.finalizers, ['x/two', 'x/one'], "the patch's order");
});

test("strategic merge: a container a patch adds leads the list, as kube-apiserver stores it (upstream's ReplicaSet Replace and Patch test reads containers[0])", (t) => {
  const rs = { spec: { template: { spec: { containers: [{ name: 'agnhost', image: 'a' }] } } } };
  const out = strategicMergePatch(
    rs,
    { spec: { template: { spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'test-rs', image: 'pause' }] } } } },
    'V1ReplicaSet',
  ) as any;
  t.deepEqual(
    out.spec.template.spec.containers.map((c: any) => c.name),
    ['test-rs', 'agnhost'],
  );
  const scalars = strategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['b', 'c'] } }, 'V1Pod') as any;
  t.deepEqual(scalars.metadata.finalizers, ['a', 'b', 'c'], 'a server-only element that came before a patch element stays in front');
});

test('strategic merge directives: $patch delete/replace, $setElementOrder, $deleteFromPrimitiveList, $retainKeys', (t) => {
  const out = strategicMergePatch(
    pod(),
    {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['x/one'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'app' }],
        containers: [{ name: 'app', ports: [{ containerPort: 80, $patch: 'delete' }] }],
        volumes: [{ name: 'v', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }],
      },
      status: { conditions: [{ $patch: 'replace' }, { type: 'Only', status: 'True' }] },
    },
    'V1Pod',
  ) as any;
  t.deepEqual(out.metadata.finalizers, []);
  t.deepEqual(
    out.spec.containers.map((c: any) => c.name),
    ['side', 'app'],
  );
  t.deepEqual(out.spec.containers[1].ports, [{ containerPort: 81 }]);
  t.deepEqual(out.spec.volumes, [{ name: 'v', hostPath: { path: '/x' } }]);
  t.deepEqual(out.status.conditions, [{ type: 'Only', status: 'True' }]);
  const whole = strategicMergePatch(pod(), { spec: { $patch: 'replace', containers: [{ name: 'z', image: 'z' }] } }, 'V1Pod') as any;
  t.deepEqual(Object.keys(whole.spec), ['containers']);
});

test('strategic merge: a keyed list element without its merge key is rejected', (t) => {
  t.throws(() => strategicMergePatch(pod(), { spec: { containers: [{ image: 'x' }] } }, 'V1Pod'), { message: /merge key: name/ });
});

test('strategic merge: node addresses merge by type, podCIDRs as a set', (t) => {
  const node = {
    spec: { podCIDRs: ['10.244.1.0/24'] },
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'Hostname', address: 'n' },
      ],
    },
  };
  const out = strategicMergePatch(
    node,
    { spec: { podCIDRs: ['10.244.1.0/24'] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
    'V1Node',
  ) as any;
  t.deepEqual(out.status.addresses, [
    { type: 'InternalIP', address: '10.0.0.2' },
    { type: 'Hostname', address: 'n' },
  ]);
  t.deepEqual(out.spec.podCIDRs, ['10.244.1.0/24']);
});

test('applyPatch maps failures to API errors: malformed 400, not applicable 422', (t) => {
  const e1 = t.throws(() => applyPatch('merge', pod(), [1], 'V1Pod'), { instanceOf: ApiError }) as ApiError;
  t.is(e1.code, 400);
  const e2 = t.throws(() => applyPatch('json', pod(), [{ op: 'remove', path: '/nope' }], 'V1Pod'), { instanceOf: ApiError }) as ApiError;
  t.is(e2.code, 422);
});
