import test from 'ava';
import { decodeK8sProtobuf, messageFor, ProtobufError } from '../../agents/control-plane/apiserver/protobuf/decode.ts';

// a minimal protobuf writer, enough to build the bodies kubectl sends
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};
const str = (num: number, s: string | Buffer): number[] => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return [...varint((num << 3) | 2), ...varint(b.length), ...b];
};
const msg = (num: number, body: number[]): number[] => [...varint((num << 3) | 2), ...varint(body.length), ...body];
const int = (num: number, v: number | boolean): number[] => [...varint(num << 3), ...varint(typeof v === 'boolean' ? (v ? 1 : 0) : v)];
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...msg(1, [...str(1, apiVersion), ...str(2, kind)]), ...msg(2, raw), ...str(3, ''), ...str(4, '')]);
const mapEntry = (num: number, k: string, v: number[]) => msg(num, [...str(1, k), ...v]);

test('a Namespace as kubectl create namespace sends it', (t) => {
  // ObjectMeta{name: "foo", generateName: "", creationTimestamp: {}}, spec {}, status {}
  const meta = [...str(1, 'foo'), ...str(2, ''), ...msg(8, [])];
  const body = envelope('v1', 'Namespace', [...msg(1, meta), ...msg(2, []), ...msg(3, [])]);
  t.deepEqual(decodeK8sProtobuf(body, messageFor('', 'Namespace')!), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'foo' }, spec: {}, status: {} });
});

test('a Deployment: pointers keep zero, omitempty zeros go, nested containers and int-or-string', (t) => {
  const container = [
    ...str(1, 'web'),
    ...str(2, 'busybox'),
    ...str(3, 'sleep'),
    ...str(3, '10'),
    ...msg(6, [...int(3, 80), ...str(4, 'TCP')]),
    ...msg(8, []),
    ...int(16, false),
  ];
  const template = [...msg(1, [...mapEntry(11, 'app', str(2, 'web'))]), ...msg(2, [...msg(2, container)])];
  const strategy = [...str(1, 'RollingUpdate'), ...msg(2, [...msg(1, [...int(1, 1), ...str(3, '25%')]), ...msg(2, [...int(1, 0), ...int(2, 1)])])];
  const spec = [...int(1, 0), ...msg(2, [...mapEntry(1, 'app', str(2, 'web'))]), ...msg(3, template), ...msg(4, strategy), ...int(5, 0)];
  const d: any = decodeK8sProtobuf(envelope('apps/v1', 'Deployment', [...msg(1, str(1, 'web')), ...msg(2, spec)]), 'apps.Deployment');
  t.is(d.spec.replicas, 0, 'a pointer field keeps its zero');
  t.false('minReadySeconds' in d.spec, 'an omitempty zero is left out');
  t.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
  t.deepEqual(d.spec.template.spec.containers, [
    { name: 'web', image: 'busybox', command: ['sleep', '10'], ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {} },
  ]);
  t.deepEqual(d.spec.strategy.rollingUpdate, { maxUnavailable: '25%', maxSurge: 1 });
});

test('Secret bytes become base64, quantities strings, times RFC 3339, inlined volume sources', (t) => {
  const secret: any = decodeK8sProtobuf(
    envelope('v1', 'Secret', [...msg(1, str(1, 's')), ...mapEntry(2, 'a', str(2, Buffer.from('b'))), ...str(3, 'Opaque')]),
    'core.Secret',
  );
  t.deepEqual(secret.data, { a: Buffer.from('b').toString('base64') });
  const volume = [...str(1, 'data'), ...msg(2, [...msg(2, [...str(1, 'Memory'), ...msg(2, str(1, '1Gi'))])])];
  const container = [...str(1, 'c'), ...msg(8, [...mapEntry(1, 'cpu', msg(2, str(1, '500m')))])];
  const pod: any = decodeK8sProtobuf(
    envelope('v1', 'Pod', [...msg(1, [...str(1, 'p'), ...msg(9, [...int(1, 1735689600)])]), ...msg(2, [...msg(1, volume), ...msg(2, container)])]),
    'core.Pod',
  );
  t.deepEqual(pod.spec.volumes, [{ name: 'data', emptyDir: { medium: 'Memory', sizeLimit: '1Gi' } }]);
  t.deepEqual(pod.spec.containers[0].resources, { limits: { cpu: '500m' } });
  t.is(pod.metadata.deletionTimestamp, '2025-01-01T00:00:00Z');
});

test('bodies without the magic or with truncated fields are rejected', (t) => {
  t.throws(() => decodeK8sProtobuf(Buffer.from('{"kind":"Pod"}'), 'core.Pod'), { instanceOf: ProtobufError });
  t.throws(() => decodeK8sProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x12, 0x05, 0x0a]), 'core.Pod'), { instanceOf: ProtobufError });
  t.is(messageFor('batch', 'Job'), 'batch.Job');
  t.is(messageFor('rbac.authorization.k8s.io', 'Role'), 'rbac.Role');
  t.is(messageFor('example.com', 'Widget'), undefined);
});
