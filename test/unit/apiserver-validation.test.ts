import test from 'ava';
import { invalid as invalidStatus } from '../../agents/control-plane/apiserver/errors.ts';
import { fieldErrorString } from '../../agents/control-plane/apiserver/validation/field.ts';
import { validateObjectMeta } from '../../agents/control-plane/apiserver/validation/meta.ts';
import { dns1035Label, dns1123Label, dns1123Subdomain, labelValue, qualifiedName } from '../../agents/control-plane/apiserver/validation/names.ts';
import { validatePodSpec, validatePodUpdate } from '../../agents/control-plane/apiserver/validation/pod.ts';
import { defaultPodSpec, defaultPullPolicy, qosClass } from '../../agents/api/pod-defaults.ts';
import { conform } from '../../agents/control-plane/apiserver/schema.ts';

const strings = (errs: Parameters<typeof fieldErrorString>[0][]) => errs.map(fieldErrorString);

test('name rules', (t) => {
  t.deepEqual(dns1123Subdomain('a.b-c'), []);
  t.is(dns1123Subdomain('Bad_Name').length, 1);
  t.deepEqual(dns1123Label('abc-1'), []);
  t.is(dns1123Label('a.b').length, 1);
  t.is(dns1123Label('x'.repeat(64)).length, 1);
  t.deepEqual(dns1035Label('svc-1'), []);
  t.is(dns1035Label('1svc').length, 1);
  t.deepEqual(qualifiedName('example.com/My_Key.1'), []);
  t.true(qualifiedName('bad key').length > 0);
  t.true(qualifiedName('Bad_Prefix/x').length > 0);
  t.deepEqual(labelValue(''), []);
  t.true(labelValue('-x').length > 0);
});

test('object meta: the messages users see', (t) => {
  t.deepEqual(strings(validateObjectMeta({ name: 'Bad_Name', namespace: 'default' }, true, 'subdomain')), [
    `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  ]);
  t.deepEqual(strings(validateObjectMeta({ namespace: 'default' }, true, 'subdomain')), ['metadata.name: Required value: name or generateName is required']);
  t.deepEqual(strings(validateObjectMeta({ name: 'n', namespace: 'x' }, false, 'subdomain')), ['metadata.namespace: Forbidden: not allowed on this type']);
  t.deepEqual(validateObjectMeta({ generateName: 'web-', namespace: 'default' }, true, 'subdomain'), []);
  const labels = strings(validateObjectMeta({ name: 'n', namespace: 'd', labels: { 'bad key': 'v', ok: 'bad value!' } }, true, 'subdomain'));
  t.is(labels.length, 2);
  t.true(labels[0].startsWith('metadata.labels: Invalid value: "bad key": name part must consist of'));
});

const spec = (over: Record<string, unknown> = {}) => ({ containers: [{ name: 'c', image: 'busybox' }], ...over });

test('pod spec validation: required, invalid, unsupported, duplicate, not found', (t) => {
  t.deepEqual(strings(validatePodSpec({})), ['spec.containers: Required value']);
  t.deepEqual(strings(validatePodSpec({ containers: [{ name: 'c' }] })), ['spec.containers[0].image: Required value']);
  t.deepEqual(strings(validatePodSpec(spec({ restartPolicy: 'Sometimes' }))), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
  ]);
  t.deepEqual(
    strings(
      validatePodSpec({
        containers: [
          { name: 'c', image: 'i' },
          { name: 'c', image: 'i' },
        ],
      }),
    ),
    ['spec.containers[1].name: Duplicate value: "c"'],
  );
  t.deepEqual(strings(validatePodSpec({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 70000 }] }] })), [
    'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
  ]);
  t.deepEqual(strings(validatePodSpec({ containers: [{ name: 'c', image: 'i', volumeMounts: [{ name: 'v', mountPath: '/v' }] }] })), [
    'spec.containers[0].volumeMounts[0].name: Not found: "v"',
  ]);
  t.deepEqual(strings(validatePodSpec({ containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1' }, requests: { cpu: '2' } } }] })), [
    'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
  ]);
  t.deepEqual(validatePodSpec(spec({ volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ operator: 'Exists' }] })), []);
});

test('pod updates may change images but not other spec fields', (t) => {
  const old = { metadata: {}, spec: spec() };
  t.deepEqual(validatePodUpdate({ metadata: {}, spec: { containers: [{ name: 'c', image: 'busybox:2' }] } }, old), []);
  const errs = strings(validatePodUpdate({ metadata: {}, spec: spec({ restartPolicy: 'Never' }) }, old));
  t.is(errs.length, 1);
  t.true(errs[0].startsWith('spec: Forbidden: pod updates may not change fields other than'));
});

test('pod defaulting and QoS', (t) => {
  const s: any = { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' } } }] };
  defaultPodSpec(s);
  t.is(s.restartPolicy, 'Always');
  t.is(s.dnsPolicy, 'ClusterFirst');
  t.is(s.terminationGracePeriodSeconds, 30);
  t.is(s.schedulerName, 'default-scheduler');
  t.is(s.containers[0].imagePullPolicy, 'Always');
  t.is(s.containers[0].ports[0].protocol, 'TCP');
  t.is(s.containers[0].terminationMessagePath, '/dev/termination-log');
  t.deepEqual(s.containers[0].resources.requests, { cpu: '1', memory: '1Gi' }, 'requests default to limits');
  t.is(qosClass(s), 'Guaranteed');
  t.is(qosClass({ containers: [{ name: 'c' }] }), 'BestEffort');
  t.is(qosClass({ containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
  t.is(defaultPullPolicy('busybox:latest'), 'Always');
  t.is(defaultPullPolicy('localhost:5000/busybox'), 'Always');
  t.is(defaultPullPolicy('localhost:5000/busybox:1.36'), 'IfNotPresent');
  t.is(defaultPullPolicy('busybox@sha256:abc'), 'IfNotPresent');
});

test('schema conformance: unknown fields, type errors, quantities', (t) => {
  const p: any = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'x' },
    spec: { foo: 1, containers: [{ name: 'c', image: 'i', bar: true, resources: { limits: { cpu: 2 } } }] },
  };
  const r = conform(p, 'V1Pod');
  t.deepEqual(r.unknown, ['spec.foo', 'spec.containers[0].bar']);
  t.is(p.spec.foo, undefined, 'unknown fields are dropped');
  t.is(p.spec.containers[0].resources.limits.cpu, '2', 'numeric quantities become strings');
  t.is(
    conform({ metadata: { labels: { a: 1 } } }, 'V1Pod').typeError,
    'json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
  );
  t.regex(conform({ spec: { containers: [{ resources: { limits: { cpu: 'lots' } } }] } }, 'V1Pod').typeError ?? '', /quantities must match/);
  t.is(conform({ spec: { renewTime: '2025-01-01T00:00:00.000000Z' } }, 'V1Lease').typeError, undefined);
});

test('Invalid status carries one cause per field error', (t) => {
  const st = invalidStatus('Pod', '', 'p', validatePodSpec({ containers: [{ name: 'c' }, { name: 'c', image: 'i' }] })).toStatus();
  t.is(st.code, 422);
  t.is(st.reason, 'Invalid');
  t.is(st.message, 'Pod "p" is invalid: [spec.containers[0].image: Required value, spec.containers[1].name: Duplicate value: "c"]');
  t.deepEqual(
    st.details?.causes?.map((c) => [c.reason, c.field]),
    [
      ['FieldValueRequired', 'spec.containers[0].image'],
      ['FieldValueDuplicate', 'spec.containers[1].name'],
    ],
  );
});
