// Who may use the kubelet's server (server/auth.ts): users from the client certificate, the authorizer, upstream's subresource names.
import test from 'ava';
import { APISERVER_KUBELET_CLIENT, authorize, requestAttributes, userFromSubject } from '../../agents/kubelet/server/auth.ts';

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
