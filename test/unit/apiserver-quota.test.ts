// ResourceQuota arithmetic and messages (apiserver/quota.ts), as upstream's.
import test from 'ava';
import { canonicalQuantity, exceeded, missingCompute, podUsage, usedFor } from '../../agents/control-plane/apiserver/quota.ts';

test('quantities print canonically and quota refusals read as upstream', (t) => {
  t.is(canonicalQuantity('1000000'), '1M');
  t.is(canonicalQuantity('2048Ki'), '2Mi');
  t.is(canonicalQuantity('0.5'), '500m');
  t.is(canonicalQuantity('abc'), 'abc');
  const pod = { metadata: {}, spec: { containers: [{ resources: { requests: { cpu: '250m' }, limits: { memory: '64Mi' } } }] } };
  t.deepEqual(podUsage(pod), {
    pods: 1,
    'count/pods': 1,
    'requests.cpu': 0.25,
    cpu: 0.25,
    'requests.memory': 64 * 2 ** 20,
    memory: 64 * 2 ** 20,
    'limits.memory': 64 * 2 ** 20,
  });
  t.deepEqual(usedFor({ pods: '2', 'requests.memory': '1Gi', services: '1' }, { pods: 1, 'requests.memory': 2 ** 27 }), {
    pods: '1',
    'requests.memory': '128Mi',
    services: '0',
  });
  const quota = { metadata: { name: 'q' }, spec: { hard: { pods: '2', 'requests.cpu': '1' } } };
  t.is(exceeded(quota, { pods: 1 }, { pods: 1 }), undefined);
  t.is(
    exceeded(quota, { pods: 2, 'requests.cpu': 0.5 }, { pods: 1, 'requests.cpu': 0.75 }),
    'exceeded quota: q, requested: pods=1,requests.cpu=750m, used: pods=2,requests.cpu=500m, limited: pods=2,requests.cpu=1',
  );
});

test('a compute quota needs each container to state what it tracks', (t) => {
  const quota = { metadata: { name: 'q' }, spec: { hard: { pods: '5', 'requests.cpu': '1', 'limits.memory': '1Gi' } } };
  const pod = { metadata: {}, spec: { containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Mi' } } }, { name: 'b' }] } };
  t.is(missingCompute(quota, pod), 'failed quota: q: must specify limits.memory for: b; requests.cpu for: b');
  t.is(missingCompute({ metadata: { name: 'q' }, spec: { hard: { pods: '1' } } }, pod), undefined);
});
