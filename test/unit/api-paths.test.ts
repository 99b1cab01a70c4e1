// API resource paths (api/paths.ts) for the core and named groups.
import test from 'ava';
import { resourcePath } from '../../agents/api/paths.ts';

test('resource paths for core and named groups', (t) => {
  t.is(resourcePath({ version: 'v1', plural: 'pods', namespace: 'default', name: 'p', subresource: 'status' }), '/api/v1/namespaces/default/pods/p/status');
  t.is(
    resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: 'kube-node-lease' }),
    '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases',
  );
  t.is(resourcePath({ version: 'v1', plural: 'nodes' }), '/api/v1/nodes');
});
