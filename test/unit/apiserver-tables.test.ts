import test from 'ava';
import { NODE_TABLE, POD_TABLE, podSummary } from '../../agents/control-plane/apiserver/tables/pods.ts';
import { buildTable, humanDuration } from '../../agents/control-plane/apiserver/tables/table.ts';
import { serviceStrategy } from '../../agents/control-plane/apiserver/strategies/service.ts';
import { parseAccept, parseResourcePath } from '../../agents/control-plane/apiserver/request.ts';

const now = new Date('2025-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

test('humanDuration follows kubectl', (t) => {
  t.is(humanDuration(45_000), '45s');
  t.is(humanDuration(119_000), '119s');
  t.is(humanDuration(200_000), '3m20s');
  t.is(humanDuration(600_000), '10m');
  t.is(humanDuration(5 * 3600_000 + 3 * 60_000), '5h3m');
  t.is(humanDuration(30 * 3600_000), '30h');
  t.is(humanDuration(3 * 86400_000 + 4 * 3600_000), '3d4h');
  t.is(humanDuration(90 * 86400_000), '90d');
  t.is(humanDuration(-5000), '<invalid>');
});

const base = (status: any, meta: any = {}) => ({
  metadata: { name: 'p', creationTimestamp: ago(90), ...meta },
  spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
  status,
});

test('pod STATUS, READY and RESTARTS', (t) => {
  t.deepEqual(podSummary(base({ phase: 'Pending' }), now), { ready: '0/2', status: 'Pending', restarts: '0' });
  const creating = base({
    phase: 'Pending',
    containerStatuses: [
      { name: 'a', state: { waiting: { reason: 'ContainerCreating' } } },
      { name: 'b', state: { waiting: { reason: 'ContainerCreating' } } },
    ],
  });
  t.is(podSummary(creating, now).status, 'ContainerCreating');
  const running = base({
    phase: 'Running',
    containerStatuses: [
      { name: 'a', ready: true, state: { running: {} } },
      { name: 'b', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { finishedAt: ago(300) } } },
    ],
  });
  t.deepEqual(podSummary(running, now), { ready: '2/2', status: 'Running', restarts: '2 (5m ago)' });
  const crash = base({
    phase: 'Running',
    containerStatuses: [{ name: 'a', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }],
  });
  t.is(podSummary(crash, now).status, 'CrashLoopBackOff');
  const done = base({ phase: 'Succeeded', containerStatuses: [{ name: 'a', state: { terminated: { reason: 'Completed', exitCode: 0 } } }] });
  t.is(podSummary(done, now).status, 'Completed');
  const errored = base({ phase: 'Failed', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 3 } } }] });
  t.is(podSummary(errored, now).status, 'ExitCode:3');
  const terminating = base({ phase: 'Running' }, { deletionTimestamp: ago(0) });
  t.is(podSummary(terminating, now).status, 'Terminating');
  const init = {
    ...base({ phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { waiting: { reason: 'PodInitializing' } } }] }),
    spec: { initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] },
  };
  t.is(podSummary(init, now).status, 'Init:0/1');
});

test('pod table has the wide columns kubectl shows with -o wide', (t) => {
  const pod = base({ phase: 'Running', podIP: '10.244.1.5', podIPs: [{ ip: '10.244.1.5' }] });
  const table: any = buildTable(POD_TABLE, [pod], { include: 'Metadata', now });
  t.deepEqual(
    table.columnDefinitions.map((c: any) => c.name),
    ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates'],
  );
  t.deepEqual(
    table.columnDefinitions.map((c: any) => c.priority),
    [0, 0, 0, 0, 0, 1, 1, 1, 1],
  );
  t.deepEqual(table.rows[0].cells, ['p', '0/2', 'Running', '0', '90s', '10.244.1.5', 'n1', '<none>', '<none>']);
  t.is(table.rows[0].object.kind, 'PartialObjectMetadata');
});

test('node table: STATUS, ROLES, VERSION, addresses', (t) => {
  const node = {
    metadata: { name: 'n1', creationTimestamp: ago(7200), labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      nodeInfo: { kubeletVersion: 'v1.35.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.6' },
    },
  };
  t.deepEqual(NODE_TABLE.row(node, now), [
    'n1',
    'Ready,SchedulingDisabled',
    'control-plane',
    '120m',
    'v1.35.0',
    '10.0.0.1',
    '<none>',
    'Debian',
    '6.1',
    'containerd://1.6',
  ]);
  t.is((NODE_TABLE.row({ metadata: { name: 'x' }, status: {} }, now) as string[])[1], 'Unknown');
});

test('service table shows node ports', (t) => {
  const svc = {
    metadata: { name: 's', creationTimestamp: ago(10) },
    spec: { type: 'NodePort', clusterIP: '10.96.0.9', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'x' } },
  };
  t.deepEqual(serviceStrategy.table!.row(svc, now), ['s', 'NodePort', '10.96.0.9', '<none>', '80:30080/TCP', '10s', 'app=x']);
});

test('request routing and content negotiation', (t) => {
  const q = new URLSearchParams();
  t.like(parseResourcePath('GET', '/api/v1/namespaces/ns/pods/p/status', q), {
    namespace: 'ns',
    resource: 'pods',
    name: 'p',
    subresource: 'status',
    verb: 'get',
  });
  t.like(parseResourcePath('GET', '/api/v1/namespaces/ns', q), { resource: 'namespaces', name: 'ns', verb: 'get' });
  t.like(parseResourcePath('PUT', '/api/v1/namespaces/ns/finalize', q), { resource: 'namespaces', name: 'ns', subresource: 'finalize', verb: 'update' });
  t.like(parseResourcePath('GET', '/apis/apps/v1/deployments', new URLSearchParams('watch=1')), { group: 'apps', resource: 'deployments', verb: 'watch' });
  t.like(parseResourcePath('GET', '/api/v1/watch/namespaces/ns/pods/p', q), { namespace: 'ns', name: 'p', verb: 'watch' });
  t.like(parseResourcePath('DELETE', '/api/v1/namespaces/ns/pods', q), { verb: 'deletecollection' });
  t.is(parseResourcePath('GET', '/api/v1/a/b/c/d', q), undefined);
  t.like(parseAccept('application/json;as=Table;v=v1;g=meta.k8s.io,application/json'), { table: true });
  t.like(parseAccept('application/vnd.kubernetes.protobuf,application/json'), { table: false, acceptable: true });
  t.like(parseAccept('application/yaml'), { acceptable: false });
});
