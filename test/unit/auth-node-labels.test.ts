// NodeRestriction's label rules (issue #24 finding 5): which added, changed or removed Node labels
// a kubelet may not write.
import test from 'ava';
import { forbiddenNodeLabels } from '../../agents/control-plane/auth/node-labels.ts';

test("restricted and unknown kubernetes.io/k8s.io labels are refused whether added, changed or removed; the kubelet's own pass", (t) => {
  t.deepEqual(
    forbiddenNodeLabels(
      {
        'node-restriction.kubernetes.io/a': '1',
        'x.node-restriction.kubernetes.io/b': '1',
        'node-role.kubernetes.io/worker': '',
        'k8s.io/x': '1',
        'sub.k8s.io/y': '1',
      },
      undefined,
    ),
    ['k8s.io/x', 'node-restriction.kubernetes.io/a', 'node-role.kubernetes.io/worker', 'sub.k8s.io/y', 'x.node-restriction.kubernetes.io/b'],
  );
  const own = {
    'kubernetes.io/hostname': 'n',
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/arch': 'amd64',
    'topology.kubernetes.io/zone': 'z',
    'failure-domain.beta.kubernetes.io/region': 'r',
    'node.kubernetes.io/instance-type': 'm',
    'kubelet.kubernetes.io/x': '1',
    'foo.node.kubernetes.io/y': '1',
    'example.com/rack': 'r',
    plain: 'v',
  };
  t.deepEqual(forbiddenNodeLabels(own, undefined), []);
  // unchanged restricted labels are fine; a change or a removal is not
  const old = { 'node-restriction.kubernetes.io/pool': 'a', 'node-role.kubernetes.io/master': '' };
  t.deepEqual(forbiddenNodeLabels({ ...old, plain: 'v' }, old), []);
  t.deepEqual(forbiddenNodeLabels({ 'node-restriction.kubernetes.io/pool': 'b' }, old), [
    'node-restriction.kubernetes.io/pool',
    'node-role.kubernetes.io/master',
  ]);
});
