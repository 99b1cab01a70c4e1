// A container's environment: sources, order, expansion, and upstream's error messages.
import test from 'ava';
import type { V1Container, V1Pod, V1Service } from '@kubernetes/client-node';
import { ConfigError, containerEnv, expand, expandCommand, type EnvLookups } from '../../agents/kubelet/pods/env.ts';
import { podReferences } from '../../agents/kubelet/pods/references.ts';
import { serviceEnv } from '../../agents/kubelet/pods/service-env.ts';

const pod = (c: Partial<V1Container>, extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'team', uid: 'u1', labels: { app: 'web' }, annotations: { note: 'hi' } },
  spec: { nodeName: 'n1', serviceAccountName: 'sa', containers: [{ name: 'c', image: 'i', ...c }], ...extra },
});

const lookups = (over: Partial<EnvLookups> = {}): EnvLookups => ({
  configMap: (ns, name) => (ns === 'team' && name === 'cfg' ? { A: 'from-cm', B: 'b', 'bad=key': 'x' } : undefined),
  secret: (ns, name) => (ns === 'team' && name === 'sec' ? { PASSWORD: 's3cret' } : undefined),
  serviceEnv: {},
  podIPs: ['10.244.1.5'],
  hostIPs: ['10.0.0.11'],
  allocatable: { cpuMillis: 2000, memoryBytes: 4 * 1024 ** 3, ephemeralStorageBytes: 10 * 1024 ** 3 },
  ...over,
});

const envOf = (p: V1Pod, l = lookups()) => Object.fromEntries(containerEnv(p, p.spec!.containers[0], l).env.map((e) => [e.key, e.value]));

test('$(VAR) expansion: known names, unknown left as written, $$ escapes', (t) => {
  const v = (n: string) => (({ A: 'x', B: 'y' }) as Record<string, string>)[n];
  t.is(expand('$(A)-$(B)', v), 'x-y');
  t.is(expand('$(C) stays', v), '$(C) stays');
  t.is(expand('$$(A) is literal', v), '$(A) is literal');
  t.is(expand('cost $5 and $(A', v), 'cost $5 and $(A');
});

test('envFrom first with prefix and invalid names skipped, then env entries override and expand', (t) => {
  const p = pod({
    envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CM_' }, { secretRef: { name: 'sec' } }],
    env: [
      { name: 'A', value: 'literal' },
      { name: 'GREETING', value: '$(CM_A) and $(PASSWORD)' },
      { name: 'LATER', value: '$(AFTER)' },
      { name: 'AFTER', value: 'x' },
    ],
  });
  const r = containerEnv(p, p.spec!.containers[0], lookups());
  const e = Object.fromEntries(r.env.map((x) => [x.key, x.value]));
  t.is(e.CM_A, 'from-cm');
  t.is(e.PASSWORD, 's3cret');
  t.is(e.A, 'literal');
  t.is(e.GREETING, 'from-cm and s3cret');
  t.is(e.LATER, '$(AFTER)', 'only earlier variables expand');
  t.deepEqual(r.invalidNames, ['CM_bad=key']);
});

test('valueFrom: configMap and secret keys, downward fields, resources with divisors and node defaults', (t) => {
  const p = pod({
    resources: { limits: { cpu: '250m', memory: '64Mi' }, requests: { cpu: '100m' } },
    env: [
      { name: 'CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'B' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'PASSWORD' } } },
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CPU_LIMIT_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
      { name: 'EPH', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage', divisor: '1Gi' } } },
    ],
  });
  t.like(envOf(p), {
    CM: 'b',
    PW: 's3cret',
    NAME: 'web',
    NS: 'team',
    APP: 'web',
    IP: '10.244.1.5',
    HOST: '10.0.0.11',
    NODE: 'n1',
    SA: 'sa',
    CPU_LIMIT: '1',
    CPU_LIMIT_M: '250',
    MEM_MI: '64',
    CPU_REQ_M: '100',
    EPH: '10',
  });
  const noLimits = pod({ env: [{ name: 'M', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } }] });
  t.is(envOf(noLimits).M, String(4 * 1024 ** 3), 'an unset limit is the node allocatable');
});

test('missing sources: upstream messages, optional ones skipped', (t) => {
  const err = (c: Partial<V1Container>) => t.throws(() => envOf(pod(c)), { instanceOf: ConfigError })!.message;
  t.is(err({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }), 'configmap "nope" not found');
  t.is(err({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] }), "couldn't find key k in ConfigMap team/cfg");
  t.is(err({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }), 'secret "nope" not found');
  t.is(err({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'k' } } }] }), "couldn't find key k in Secret team/sec");
  t.is(err({ envFrom: [{ configMapRef: { name: 'nope' } }] }), 'configmap "nope" not found');
  t.deepEqual(
    envOf(
      pod({
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }],
        envFrom: [{ secretRef: { name: 'nope', optional: true } }],
      }),
    ),
    {},
  );
});

test('command and args expand from the final environment', (t) => {
  const c = { name: 'c', command: ['echo', '$(MSG)'], args: ['$(MISSING)', '$$(MSG)'] };
  t.deepEqual(expandCommand(c, [{ key: 'MSG', value: 'hi' }]), { command: ['echo', 'hi'], args: ['$(MISSING)', '$(MSG)'] });
});

const svc = (ns: string, name: string, ip: string, ports: { name?: string; port: number; protocol?: string }[]): V1Service =>
  ({ metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } }) as V1Service;

test("service links: the namespace's services and always the kubernetes service", (t) => {
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
    svc('team', 'redis-primary', '10.96.0.20', [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'TCP' }]),
    svc('team', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'db', '10.96.0.30', [{ port: 5432 }]),
  ];
  const e = serviceEnv(pod({}), services);
  t.like(e, {
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    KUBERNETES_SERVICE_PORT_HTTPS: '443',
    REDIS_PRIMARY_SERVICE_HOST: '10.96.0.20',
    REDIS_PRIMARY_SERVICE_PORT: '6379',
    REDIS_PRIMARY_SERVICE_PORT_METRICS: '9121',
    REDIS_PRIMARY_PORT: 'tcp://10.96.0.20:6379',
    REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.0.20:6379',
    REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
    REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
    REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.0.20',
  });
  t.false(Object.keys(e).some((k) => k.startsWith('HEADLESS') || k.startsWith('DB_')));
  const off = serviceEnv(pod({}, { enableServiceLinks: false }), services);
  t.deepEqual(
    Object.keys(off).filter((k) => !k.startsWith('KUBERNETES')),
    [],
  );
  t.truthy(off.KUBERNETES_SERVICE_HOST);
  // explicit env wins over a service link of the same name
  const p = pod({ env: [{ name: 'KUBERNETES_SERVICE_HOST', value: 'mine' }] });
  t.is(envOf(p, lookups({ serviceEnv: e })).KUBERNETES_SERVICE_HOST, 'mine');
});

test('references: the ConfigMaps and Secrets a pod reads, wherever it reads them', (t) => {
  const r = podReferences(
    pod(
      {
        env: [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'c1', key: 'k' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } },
        ],
        envFrom: [{ configMapRef: { name: 'c2' } }, { secretRef: { name: 's2' } }],
      },
      {
        volumes: [
          { name: 'v', configMap: { name: 'c3' } },
          { name: 'w', secret: { secretName: 's3' } },
          { name: 'p', projected: { sources: [{ configMap: { name: 'c4' } }, { secret: { name: 's4' } }] } },
        ],
        imagePullSecrets: [{ name: 's5' }],
      },
    ),
  );
  t.deepEqual([...r.configMaps].sort(), ['c1', 'c2', 'c3', 'c4']);
  t.deepEqual([...r.secrets].sort(), ['s1', 's2', 's3', 's4', 's5']);
});
