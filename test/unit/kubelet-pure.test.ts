import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { Backoff } from '../../agents/kubelet/pods/backoff.ts';
import { containerConfig, containerHash, sandboxConfig } from '../../agents/kubelet/pods/cri-config.ts';
import { podStatus, type ContainerView } from '../../agents/kubelet/pods/pod-status.ts';
import { parseResolvConf } from '../../agents/kubelet/pods/resolv.ts';
import { nsToDate, rfc3339 } from '../../agents/kubelet/pods/runtime-values.ts';
import { conditions, resources } from '../../agents/kubelet/node/node-object.ts';

const pod = (extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'img:1', ports: [{ containerPort: 80, hostPort: 8080 }] }], ...extra },
  status: { phase: 'Pending' },
});

const view = (state: string, extra: Partial<ContainerView> = {}): ContainerView => ({
  id: 'abc',
  state,
  attempt: 0,
  image: 'img:1',
  imageRef: 'sha256:1',
  startedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

test('sandbox config carries the pod identity labels the kubelet finds it by', (t) => {
  const c = sandboxConfig(pod(), 2, { podLogRoot: '/logs', cgroupRoot: '/kp', dns: { servers: ['1.2.3.4'], searches: [], options: [] } });
  t.deepEqual(c.metadata, { name: 'web', uid: 'u1', namespace: 'default', attempt: 2 });
  t.is(c.labels?.['io.kubernetes.pod.uid'], 'u1');
  t.is((c.labels as Record<string, string>).app, 'web');
  t.is(c.logDirectory, '/logs/default_web_u1');
  t.is(c.linux?.cgroupParent, '/kp/besteffort/podu1', 'a BestEffort pod sits in the besteffort QoS cgroup');
  // enums go out as names, what the loader (enums: String) reads back and the generated types name
  t.deepEqual(c.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
  const hn = sandboxConfig(pod({ hostNetwork: true }), 0, { podLogRoot: '/l', cgroupRoot: '/k', dns: { servers: [], searches: [], options: [] } });
  t.is(hn.linux?.securityContext?.namespaceOptions?.network, 'NODE');
  t.deepEqual(hn.portMappings, []);
});

test('host ports keep their protocol as the CRI enum name, TCP when unset', (t) => {
  const ports = [
    { containerPort: 53, hostPort: 53, protocol: 'UDP' },
    { containerPort: 9, hostPort: 9, protocol: 'SCTP' },
    { containerPort: 1, hostPort: 1 },
  ];
  const c = sandboxConfig(pod({ containers: [{ name: 'c', image: 'img:1', ports }] }), 0, {
    podLogRoot: '/l',
    cgroupRoot: '/k',
    dns: { servers: [], searches: [], options: [] },
  });
  t.deepEqual(
    c.portMappings?.map((m) => m.protocol),
    ['UDP', 'SCTP', 'TCP'],
  );
});

test('container config: attempt in metadata and log path, spec hash changes with the spec', (t) => {
  const p = pod();
  const c = containerConfig(p, p.spec!.containers[0], 3);
  t.deepEqual(c.metadata, { name: 'c', attempt: 3 });
  t.is(c.logPath, 'c/3.log');
  t.not(containerHash({ name: 'c', image: 'a' }), containerHash({ name: 'c', image: 'b' }));
});

test("an ephemeral container with a target joins the target's pid namespace (CRI TARGET with target_id)", (t) => {
  const p = pod();
  const c = containerConfig(p, { name: 'dbg', image: 'img' }, 0, { targetId: 'abc123' });
  t.deepEqual(c.linux?.securityContext?.namespaceOptions, { network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'abc123' });
  t.is(containerConfig(p, p.spec!.containers[0], 0).linux?.securityContext?.namespaceOptions?.pid, 'CONTAINER');
});

test('pod status: ephemeral containers get ephemeralContainerStatuses, never ready', (t) => {
  const p = pod();
  p.spec!.ephemeralContainers = [{ name: 'dbg', image: 'img', targetContainerName: 'c' }];
  const s = podStatus(
    p,
    {
      sandboxReady: true,
      podIP: '10.244.1.5',
      containers: new Map([
        ['c', view('CONTAINER_RUNNING')],
        ['dbg', view('CONTAINER_RUNNING')],
      ]),
      previous: new Map(),
      waiting: new Map(),
    },
    '10.0.0.1',
    '2026-01-01T00:00:00Z',
  );
  t.is(s.ephemeralContainerStatuses?.length, 1);
  t.like(s.ephemeralContainerStatuses![0], { name: 'dbg', ready: false, image: 'img' });
  t.truthy(s.ephemeralContainerStatuses![0].state?.running);
  t.is(
    podStatus(pod(), { sandboxReady: true, podIP: '', containers: new Map(), previous: new Map(), waiting: new Map() }, '10.0.0.1', '2026-01-01T00:00:00Z')
      .ephemeralContainerStatuses,
    undefined,
  );
});

test('pod status: running container makes the pod Running and Ready with its IP', (t) => {
  const s = podStatus(
    pod(),
    { sandboxReady: true, podIP: '10.244.1.5', containers: new Map([['c', view('CONTAINER_RUNNING')]]), previous: new Map(), waiting: new Map() },
    '10.0.0.1',
    '2026-01-01T00:00:00Z',
  );
  t.is(s.phase, 'Running');
  t.is(s.podIP, '10.244.1.5');
  t.is(s.hostIP, '10.0.0.1');
  t.true(s.containerStatuses![0].ready);
  t.is(s.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
});

test('pod status: exit 0 with OnFailure is Succeeded; exit 1 with Never is Failed; waiting shows its reason', (t) => {
  const mk = (policy: string, code: number) =>
    podStatus(
      pod({ restartPolicy: policy }),
      {
        sandboxReady: true,
        containers: new Map([['c', view('CONTAINER_EXITED', { exitCode: code })]]),
        previous: new Map(),
        waiting: new Map(),
      },
      'h',
      'now',
    );
  t.is(mk('OnFailure', 0).phase, 'Succeeded');
  t.is(mk('Never', 1).phase, 'Failed');
  t.is(mk('Never', 1).containerStatuses![0].state!.terminated!.reason, 'Error');
  t.is(mk('OnFailure', 0).containerStatuses![0].state!.terminated!.reason, 'Completed');
  const w = podStatus(
    pod(),
    { sandboxReady: true, containers: new Map(), previous: new Map(), waiting: new Map([['c', { reason: 'ErrImagePull' }]]) },
    'h',
    'now',
  );
  t.is(w.phase, 'Pending');
  t.is(w.containerStatuses![0].state!.waiting!.reason, 'ErrImagePull');
});

test('back-off: first restart at once, then 10 s doubling to 5 min, counted from when the container finished', (t) => {
  const b = new Backoff();
  t.false(b.inBackoffSince('k', 0, 0), 'first crash: restart at once');
  b.next('k', 0);
  t.is(b.remainingSince('k', 1_000, 1_000), 10_000, 'second crash at 1 s waits 10 s from then');
  t.true(b.inBackoffSince('k', 1_000, 10_999));
  t.false(b.inBackoffSince('k', 1_000, 11_000));
  b.next('k', 1_000);
  t.is(b.remainingSince('k', 12_000, 12_000), 20_000);
  for (let i = 0; i < 10; i++) b.next('k', 12_000);
  t.is(b.current('k'), 300_000);
  t.false(b.inBackoffSince('k', 12_000 + 600_001, 12_000 + 600_001), 'forgotten after twice the maximum');
});

test('resolv.conf parsing', (t) => {
  t.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.b c\noptions ndots:2\n'), {
    servers: ['10.0.0.2', '10.0.0.3'],
    searches: ['a.b', 'c'],
    options: ['ndots:2'],
  });
});

test('CRI nanosecond timestamps become RFC 3339 seconds', (t) => {
  t.is(rfc3339(nsToDate(1_700_000_000_123_456_789)), '2023-11-14T22:13:20Z');
  t.is(nsToDate(0), undefined);
});

test('node conditions: Ready needs runtime and network; transition time kept while unchanged', (t) => {
  const c1 = conditions({ runtimeReady: true, networkReady: false, message: 'cni config uninitialized' }, 't1');
  const ready1 = c1.find((c) => c.type === 'Ready')!;
  t.is(ready1.status, 'False');
  t.is(ready1.message, 'cni config uninitialized');
  const c2 = conditions({ runtimeReady: true, networkReady: true, message: 'ok' }, 't2', c1);
  t.is(c2.find((c) => c.type === 'Ready')!.status, 'True');
  t.is(c2.find((c) => c.type === 'Ready')!.lastTransitionTime as unknown, 't2');
  t.is(c2.find((c) => c.type === 'MemoryPressure')!.lastTransitionTime as unknown, 't1');
});

test('allocatable is capacity minus reservations', (t) => {
  const r = resources({ facts: { cpus: 2, memoryBytes: 4 * 1024 ** 3 } as never, reserved: { cpuMillis: 100, memoryBytes: 1024 ** 3 }, maxPods: 110 } as never);
  t.is(r.capacity.cpu, '2');
  t.is(r.allocatable.cpu, '1900m');
  t.is(r.allocatable.memory, `${3 * 1024 * 1024}Ki`);
  t.is(r.capacity.pods, '110');
});

test("sandbox DNS: the node's resolvers without --cluster-dns; with it, dnsPolicy decides", (t) => {
  const host = { servers: ['192.0.2.1'], searches: ['corp'], options: [] };
  const ctx = { podLogRoot: '/l', cgroupRoot: '/k', dns: host };
  t.deepEqual(sandboxConfig(pod(), 0, ctx).dnsConfig, host);
  const cluster = { ...ctx, clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' };
  t.deepEqual(sandboxConfig(pod(), 0, cluster).dnsConfig, {
    servers: ['10.96.0.10'],
    searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp'],
    options: ['ndots:5'],
  });
  t.deepEqual(sandboxConfig(pod({ hostNetwork: true }), 0, cluster).dnsConfig, host, 'ClusterFirst on the host network falls back to the node');
  t.is(sandboxConfig(pod({ hostname: 'h', subdomain: 's' }), 0, cluster).hostname, 'h');
});
