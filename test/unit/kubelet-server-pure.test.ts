import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Container__Output as Container, PodSandbox__Output as PodSandbox } from '../../agents/kubelet/cri/api-types.ts';
import { APISERVER_KUBELET_CLIENT, authorize, requestAttributes, userFromSubject } from '../../agents/kubelet/server/auth.ts';
import { containerNames, findPod, logInstance, readySandbox, requireContainer, runningInstance } from '../../agents/kubelet/server/containers.ts';
import { checkedLogPath } from '../../agents/kubelet/server/handlers.ts';
import { runtimeCounts } from '../../agents/kubelet/server/metrics.ts';
import { upstreamHead } from '../../agents/kubelet/server/relay.ts';
import { ensureServingCert, servingSans, staleReason } from '../../agents/kubelet/server/serving-cert.ts';
import { HttpError, rawStatusResponse, toStatus } from '../../agents/kubelet/server/status.ts';

test('users come from the certificate subject: CN is the name, O values the groups', (t) => {
  t.deepEqual(userFromSubject({ CN: 'alice', O: ['devs', 'ops'] }), { name: 'alice', groups: ['devs', 'ops', 'system:authenticated'] });
  t.deepEqual(userFromSubject({ CN: 'bob', O: 'system:masters' }), { name: 'bob', groups: ['system:masters', 'system:authenticated'] });
  t.deepEqual(userFromSubject({ CN: 'carol' }), { name: 'carol', groups: ['system:authenticated'] });
  t.is(userFromSubject({ O: 'x' }), undefined);
  t.is(userFromSubject(undefined), undefined);
});

test('only system:masters and the API server identity may use the kubelet', (t) => {
  const attrs = requestAttributes('POST', '/exec/ns/p/c', 'node-1');
  t.deepEqual(attrs, { verb: 'create', resource: 'nodes', subresource: 'proxy', name: 'node-1' });
  t.true(authorize({ name: APISERVER_KUBELET_CLIENT, groups: [] }, attrs).allowed);
  t.true(authorize({ name: 'admin', groups: ['system:masters'] }, attrs).allowed);
  const no = authorize({ name: 'alice', groups: ['devs', 'system:authenticated'] }, attrs);
  t.false(no.allowed);
  t.is(no.reason, 'Forbidden (user=alice, verb=create, resource=nodes, subresource=proxy)');
  t.false(authorize({ name: 'system:node:node-1', groups: ['system:nodes'] }, attrs).allowed);
});

test('request attributes name upstream subresources', (t) => {
  t.is(requestAttributes('GET', '/metrics', 'n').subresource, 'metrics');
  t.is(requestAttributes('GET', '/metrics/cadvisor', 'n').subresource, 'metrics');
  t.is(requestAttributes('GET', '/metricsx', 'n').subresource, 'proxy');
  t.is(requestAttributes('GET', '/stats/summary', 'n').subresource, 'stats');
  t.is(requestAttributes('GET', '/logs/syslog', 'n').subresource, 'log');
  t.is(requestAttributes('GET', '/containerLogs/a/b/c', 'n').subresource, 'proxy');
  t.is(requestAttributes('HEAD', '/pods', 'n').verb, 'get');
});

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { initContainers: [{ name: 'init' }], containers: [{ name: 'app' }, { name: 'side' }], ephemeralContainers: [{ name: 'debug' }] },
};

test('pods and container names come from the API objects', (t) => {
  t.is(findPod([pod], 'default', 'web'), pod);
  t.is(findPod([pod], 'default', 'web', 'u1'), pod);
  for (const [ns, name, uid] of [
    ['default', 'nope'],
    ['other', 'web'],
    ['default', 'web', 'u2'],
  ] as const) {
    const e = t.throws(() => findPod([pod], ns, name, uid), { instanceOf: HttpError });
    t.is(e?.code, 404);
  }
  t.deepEqual(containerNames(pod), ['init', 'app', 'side', 'debug']);
  t.notThrows(() => requireContainer(pod, 'debug'));
  const e = t.throws(() => requireContainer(pod, 'ghost'), { instanceOf: HttpError });
  t.is(e?.code, 404);
  t.is(e?.message, 'container "ghost" not found in pod "web"');
});

const ctr = (id: string, attempt: number, state: Container['state'], createdAt = attempt): Container => ({
  id,
  podSandboxId: 's',
  metadata: { name: 'app', attempt },
  image: null,
  imageRef: '',
  state,
  createdAt,
  labels: {},
  annotations: {},
  imageId: '',
});

test('current and previous instances are told apart by restart attempt', (t) => {
  const list = [ctr('a0', 0, 'CONTAINER_EXITED'), ctr('a2', 2, 'CONTAINER_RUNNING'), ctr('a1', 1, 'CONTAINER_EXITED')];
  t.is(logInstance(list, false, 'web', 'app').id, 'a2');
  t.is(logInstance(list, true, 'web', 'app').id, 'a1');
  t.is(runningInstance(list, 'web', 'app').id, 'a2');
  const only = [ctr('b0', 0, 'CONTAINER_EXITED')];
  t.is(logInstance(only, false, 'web', 'app').id, 'b0');
  const prev = t.throws(() => logInstance(only, true, 'web', 'app'), { instanceOf: HttpError });
  t.is(prev?.code, 400);
  t.is(prev?.message, 'previous terminated container "app" in pod "web" not found');
  t.regex(t.throws(() => logInstance([], false, 'web', 'app'))?.message ?? '', /waiting to start/);
  t.regex(t.throws(() => runningInstance(only, 'web', 'app'))?.message ?? '', /is not running/);
  // the same attempt twice (a kubelet restart re-created it): the newer one wins
  t.is(logInstance([ctr('x', 1, 'CONTAINER_EXITED', 10), ctr('y', 1, 'CONTAINER_RUNNING', 20)], false, 'web', 'app').id, 'y');
});

test('port-forward goes to the newest ready sandbox', (t) => {
  const sb = (id: string, state: PodSandbox['state'], createdAt: number): PodSandbox => ({
    id,
    metadata: null,
    state,
    createdAt,
    labels: {},
    annotations: {},
    runtimeHandler: '',
  });
  t.is(readySandbox([sb('old', 'SANDBOX_READY', 1), sb('new', 'SANDBOX_READY', 2), sb('dead', 'SANDBOX_NOTREADY', 3)], 'web').id, 'new');
  t.is(t.throws(() => readySandbox([sb('dead', 'SANDBOX_NOTREADY', 3)], 'web'), { instanceOf: HttpError })?.code, 400);
});

test('log paths must lie under the pod log directory', (t) => {
  t.is(checkedLogPath('/var/log/pods', '/var/log/pods/ns_web_u1/app/0.log'), '/var/log/pods/ns_web_u1/app/0.log');
  for (const bad of ['/etc/shadow', '/var/log/pods/../../etc/shadow', '/var/log/podsx/a.log', '']) {
    t.throws(() => checkedLogPath('/var/log/pods', bad), { instanceOf: HttpError }, bad);
  }
});

test('metrics count ready sandboxes and containers by state', (t) => {
  const sb = (state: PodSandbox['state']): PodSandbox => ({ id: 'x', metadata: null, state, createdAt: 0, labels: {}, annotations: {}, runtimeHandler: '' });
  const c = runtimeCounts(
    [sb('SANDBOX_READY'), sb('SANDBOX_NOTREADY'), sb('SANDBOX_READY')],
    [ctr('a', 0, 'CONTAINER_RUNNING'), ctr('b', 0, 'CONTAINER_EXITED'), ctr('c', 0, 'CONTAINER_RUNNING')],
  );
  t.deepEqual(c, { runningPods: 2, containers: { running: 2, exited: 1, created: 0, unknown: 0 } });
});

test('errors are metav1 Status objects', (t) => {
  t.deepEqual(toStatus(new HttpError(404, 'pods "x" not found', { name: 'x', kind: 'pods' })), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "x" not found',
    reason: 'NotFound',
    code: 404,
    details: { name: 'x', kind: 'pods' },
  });
  const s = toStatus(new Error('boom'));
  t.is(s.code, 500);
  t.is(s.reason, 'InternalError');
  const raw = rawStatusResponse(new HttpError(401, 'Unauthorized'));
  t.regex(raw, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  const body = raw.split('\r\n\r\n')[1]!;
  t.is(raw.match(/Content-Length: (\d+)/)![1], String(Buffer.byteLength(body)));
  t.is(JSON.parse(body).reason, 'Unauthorized');
});

test('the relayed request keeps the client headers and takes the runtime path and host', (t) => {
  const head = upstreamHead('POST', new URL('http://127.0.0.1:4321/exec/tok3n'), '?command=ls&stdout=1', [
    'Host',
    '10.0.0.5:10250',
    'Connection',
    'Upgrade',
    'Upgrade',
    'SPDY/3.1',
    'X-Stream-Protocol-Version',
    'v4.channel.k8s.io',
    'X-Stream-Protocol-Version',
    'v3.channel.k8s.io',
  ]);
  t.is(
    head,
    [
      'POST /exec/tok3n?command=ls&stdout=1 HTTP/1.1',
      'Host: 127.0.0.1:4321',
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io',
      'X-Stream-Protocol-Version: v3.channel.k8s.io',
      '',
      '',
    ].join('\r\n'),
  );
  t.regex(upstreamHead('GET', new URL('http://127.0.0.1:1/portforward/t?x=1'), '?port=80', []), /^GET \/portforward\/t\?x=1 HTTP/, 'the runtime query wins');
});

test('the serving certificate is self-signed, names the node, and is reused until it no longer fits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-cert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(servingSans('node-1', '10.0.0.5'), ['node-1', '10.0.0.5', 'localhost', '127.0.0.1']);
  const a = await ensureServingCert(dir, 'node-1', '10.0.0.5');
  t.true(a.created);
  t.is(staleReason(a.certPem, a.keyPem, servingSans('node-1', '10.0.0.5')), undefined);
  const b = await ensureServingCert(dir, 'node-1', '10.0.0.5');
  t.false(b.created);
  t.is(b.certPem, a.certPem);
  t.regex(staleReason(a.certPem, a.keyPem, servingSans('node-1', '10.0.0.6')) ?? '', /does not name 10\.0\.0\.6/);
  t.regex(staleReason(a.certPem, a.keyPem, [], Date.now() + 400 * 86_400_000) ?? '', /expires/);
  const c = await ensureServingCert(dir, 'node-1', '10.0.0.6');
  t.true(c.created, 'a new address gets a new certificate');
  t.is(readFileSync(join(dir, 'kubelet.crt'), 'utf8'), c.certPem);
  t.regex(staleReason(c.certPem, a.keyPem, []) ?? '', /key does not match/);
  writeFileSync(join(dir, 'kubelet.crt'), 'junk');
  t.true((await ensureServingCert(dir, 'node-1', '10.0.0.6')).created, 'an unreadable certificate is replaced');
});
