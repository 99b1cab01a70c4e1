// Issue #24 finding 5: NodeRestriction's rules on what a kubelet writes to its own Node, on every
// write path (update, merge/strategic/JSON patch, server-side apply, create): no labels under
// node-restriction.kubernetes.io/ and no kubernetes.io or k8s.io labels but the kubelet's own
// (added, changed or removed), no taint changes; the kubelet's status writes keep working.
import test from 'ava';
import { type Cluster, readyNode } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { type RawClient, rawClient } from './_https.ts';

let c: Cluster;
let admin: RawClient;
let kubelet: RawClient; // system:node:n1
fileCluster(async (cluster, own) => {
  c = cluster;
  admin = own(rawClient(c.admin));
  kubelet = own(rawClient(await c.identity('system:node:n1', ['system:nodes'])));
  const node = readyNode('n1', '10.0.0.1');
  const made = await admin.request('POST', '/api/v1/nodes', {
    ...node,
    metadata: { ...node.metadata, labels: { ...node.metadata.labels, 'node-restriction.kubernetes.io/pool': 'a' } },
  });
  if (made.status !== 201) throw new Error(JSON.stringify(made.body));
});

const NODE = '/api/v1/nodes/n1';
const MERGE = 'application/merge-patch+json';
const stored = async () => (await admin.request('GET', NODE)).body;
const labelsRefused = (keys: string) => `nodes "n1" is forbidden: is not allowed to modify labels: ${keys}`;

test.serial('a kubelet may not add, change or remove restricted labels on its Node by any write', async (t) => {
  const before = await stored();
  const cases: [string, string, string, string][] = [
    ['merge add node-restriction', 'PATCH', MERGE, '{"metadata":{"labels":{"node-restriction.kubernetes.io/x":"y"}}}'],
    ['merge add node-role', 'PATCH', MERGE, '{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}'],
    ['merge remove node-restriction', 'PATCH', MERGE, '{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":null}}}'],
    ['strategic change', 'PATCH', 'application/strategic-merge-patch+json', '{"metadata":{"labels":{"node-restriction.kubernetes.io/pool":"b"}}}'],
    ['json patch add k8s.io', 'PATCH', 'application/json-patch+json', '[{"op":"add","path":"/metadata/labels/example.k8s.io~1x","value":"1"}]'],
    ['status patch', 'PATCH', MERGE, '{"metadata":{"labels":{"node-role.kubernetes.io/worker":""}}}'],
  ];
  const expected = [
    'node-restriction.kubernetes.io/x',
    'node-role.kubernetes.io/control-plane',
    'node-restriction.kubernetes.io/pool',
    'node-restriction.kubernetes.io/pool',
    'example.k8s.io/x',
    'node-role.kubernetes.io/worker',
  ];
  for (const [i, [what, method, type, body]] of cases.entries()) {
    const path = what === 'status patch' ? `${NODE}/status` : NODE;
    const r = await kubelet.request(method, path, body, type);
    t.is(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
    t.is(r.body.reason, 'Forbidden', what);
    t.is(r.body.message, labelsRefused(expected[i]), what);
  }
  const put = await kubelet.request('PUT', NODE, {
    ...before,
    metadata: { ...before.metadata, labels: { ...before.metadata.labels, 'node-role.kubernetes.io/worker': '', 'node-restriction.kubernetes.io/z': '1' } },
  });
  t.is(put.status, 403);
  t.is(put.body.message, labelsRefused('node-restriction.kubernetes.io/z, node-role.kubernetes.io/worker'));
  const apply = await kubelet.request(
    'PATCH',
    `${NODE}?fieldManager=kubelet&force=true`,
    'apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels:\n    node-role.kubernetes.io/worker: ""\n',
    'application/apply-patch+yaml',
  );
  t.is(apply.status, 403);
  t.is(apply.body.message, labelsRefused('node-role.kubernetes.io/worker'));
  const after = await stored();
  t.deepEqual(after.metadata.labels, before.metadata.labels);
  t.is(after.metadata.resourceVersion, before.metadata.resourceVersion, 'nothing was written');
});

test.serial(
  'a kubelet may set its own labels (hostname, topology, os/arch, node.kubernetes.io/, other domains) and keep posting status, but not change taints',
  async (t) => {
    const own = {
      'kubernetes.io/arch': 'arm64',
      'topology.kubernetes.io/zone': 'z1',
      'node.kubernetes.io/exclude-from-external-load-balancers': '',
      'kubelet.kubernetes.io/x': '1',
      'example.com/rack': 'r1',
    };
    const r = await kubelet.request('PATCH', NODE, JSON.stringify({ metadata: { labels: own } }), MERGE);
    t.is(r.status, 200, JSON.stringify(r.body));
    t.like(r.body.metadata.labels, own);
    // an admin taints the node; the kubelet may not lift or change it ...
    t.is((await admin.request('PATCH', NODE, '{"spec":{"taints":[{"key":"k","value":"v","effect":"NoSchedule"}]}}', MERGE)).status, 200);
    const lift = await kubelet.request('PATCH', NODE, '{"spec":{"taints":null}}', MERGE);
    t.is(lift.status, 403);
    t.is(lift.body.message, 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    // ... while its status writes, even a PUT carrying a stale spec without the taint, go through
    const cur = await stored();
    const beat = new Date().toISOString().replace(/\.\d+Z/, 'Z');
    const status = {
      ...cur,
      spec: {},
      status: { ...cur.status, conditions: cur.status.conditions.map((x: { type: string }) => ({ ...x, lastHeartbeatTime: beat })) },
    };
    const put = await kubelet.request('PUT', `${NODE}/status`, status);
    t.is(put.status, 200, JSON.stringify(put.body));
    t.deepEqual(put.body.spec.taints, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]);
    const patch = await kubelet.request(
      'PATCH',
      `${NODE}/status`,
      JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: beat }] } }),
      'application/strategic-merge-patch+json',
    );
    t.is(patch.status, 200, JSON.stringify(patch.body));
  },
);

test.serial('a kubelet registers its Node only without restricted labels, by create or by apply', async (t) => {
  const n2 = rawClient(await c.identity('system:node:n2', ['system:nodes']));
  try {
    const node = readyNode('n2', '10.0.0.2');
    const bad = {
      ...node,
      metadata: { ...node.metadata, labels: { ...node.metadata.labels, 'node-role.kubernetes.io/worker': '', 'node-restriction.kubernetes.io/a': 'b' } },
    };
    const create = await n2.request('POST', '/api/v1/nodes', bad);
    t.is(create.status, 403);
    t.is(
      create.body.message,
      'nodes "n2" is forbidden: node "n2" is not allowed to set the following labels: node-restriction.kubernetes.io/a, node-role.kubernetes.io/worker',
    );
    const apply = await n2.request(
      'PATCH',
      '/api/v1/nodes/n2?fieldManager=kubelet',
      'apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n  labels:\n    node-role.kubernetes.io/worker: ""\n',
      'application/apply-patch+yaml',
    );
    t.is(apply.status, 403);
    t.is(apply.body.message, 'nodes "n2" is forbidden: node "n2" is not allowed to set the following labels: node-role.kubernetes.io/worker');
    t.is((await admin.request('GET', '/api/v1/nodes/n2')).status, 404);
    t.is((await n2.request('POST', '/api/v1/nodes', node)).status, 201);
  } finally {
    n2.close();
  }
});
