// Authentication and authorization against the real kubectl: cluster admins, the Node authorizer
// (a kubelet's own Node, Lease and pods, and only the secrets its pods use), static bearer
// tokens, anonymous refusal, and kubectl auth can-i / whoami.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Cluster, readyNode } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
let n1: string; // kubeconfig of system:node:n1
let alice: string; // token user without groups
let ops: string; // token user in system:masters
const tokenDir = mkdtempSync(join(tmpdir(), 'hawser-tokens-'));

const tokens = join(tokenDir, 'tokens.csv');
writeFileSync(tokens, '# token,user,uid,"groups"\nalice-token-0123456789,alice,1001\nops-token-0123456789,ops,1002,"system:masters,ops"\n');

fileCluster(
  async (cluster) => {
    c = cluster;
    n1 = await c.identity('system:node:n1', ['system:nodes']);
    alice = c.tokenConfig('alice-token-0123456789');
    ops = c.tokenConfig('ops-token-0123456789');
    for (const n of ['n1', 'n2']) await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, n === 'n1' ? '10.0.0.1' : '10.0.0.2')) });
    await c.ok(['create', 'secret', 'generic', 'used', '--from-literal=k=v']);
    await c.ok(['create', 'secret', 'generic', 'unrelated', '--from-literal=k=v']);
    await c.ok(['create', 'configmap', 'cfg', '--from-literal=k=v']);
    const pod = (name: string, node: string, secret: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          nodeName: node,
          containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: 'cfg' } }] }],
          volumes: [{ name: 's', secret: { secretName: secret } }],
        },
      });
    await c.ok(['create', '-f', '-'], { input: pod('on-n1', 'n1', 'used') });
    await c.ok(['create', '-f', '-'], { input: pod('on-n2', 'n2', 'unrelated') });
  },
  { extra: { tokenAuthFile: tokens } },
);
test.after.always(async () => {
  rmSync(tokenDir, { recursive: true, force: true });
});

const as = (kubeconfig: string) => ({ kubeconfig });

test.serial('a node may manage its own Node and status but not another node', async (t) => {
  await c.ok(['label', 'node', 'n1', 'mine=yes'], as(n1));
  await c.ok(['patch', 'node', 'n1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}'], as(n1));
  const other = await c.kubectl(['label', 'node', 'n2', 'theirs=yes'], as(n1));
  t.is(other.code, 1);
  t.regex(other.stderr, /nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"/);
  const del = await c.kubectl(['delete', 'node', 'n2'], as(n1));
  t.regex(del.stderr, /nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"/);
  const create = await c.kubectl(['create', '-f', '-'], { ...as(n1), input: JSON.stringify(readyNode('n3', '10.0.0.3')) });
  t.regex(create.stderr, /nodes "n3" is forbidden: node "n1" is not allowed to modify node "n3"/);
  // every node reads every node (podnet, kube-proxy)
  t.regex(await c.ok(['get', 'nodes', '-o', 'name'], as(n1)), /node\/n2/);
});

test.serial('a node reads only the secrets and configmaps its pods use', async (t) => {
  t.regex(await c.ok(['get', 'secret', 'used', '-o', 'name'], as(n1)), /secret\/used/);
  t.regex(await c.ok(['get', 'configmap', 'cfg', '-o', 'name'], as(n1)), /configmap\/cfg/);
  const r = await c.kubectl(['get', 'secret', 'unrelated'], as(n1));
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /secrets "unrelated" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object/,
  );
  // a collection read returns the node's slice only
  t.deepEqual((await c.ok(['get', 'secrets', '-A', '-o', 'name'], as(n1))).trim().split('\n'), ['secret/used']);
  // a single-object watch of an unrelated secret is refused like a get
  const w = await c.kubectl(['get', 'secret', '--field-selector', 'metadata.name=unrelated', '--watch', '--request-timeout=3s'], as(n1));
  t.regex(w.stderr, /forbidden/);
});

test.serial('a node watching all secrets sees one enter its slice when a pod using it is bound there', async (t) => {
  const w = c.kubectl(['get', 'secrets', '-A', '--watch', '--output-watch-events', '--request-timeout=4s'], { ...as(n1), timeoutMs: 20_000 });
  await new Promise((r) => setTimeout(r, 800));
  await c.ok(['create', 'secret', 'generic', 'later', '--from-literal=k=v']);
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'later-user' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'later', key: 'k' } } }] }] },
    }),
  });
  await c.ok(['create', 'secret', 'generic', 'noise', '--from-literal=k=v']);
  await c.ok(['delete', 'pod', 'later-user', '--grace-period=0', '--force']);
  const out = (await w).stdout;
  t.regex(out, /^ADDED\s+default\s+used\s/m);
  t.regex(out, /^ADDED\s+default\s+later\s/m);
  t.regex(out, /^DELETED\s+default\s+later\s/m);
  t.notRegex(out, /unrelated|noise/);
});

test.serial('a node lists and watches only its own pods, and may delete them and post their status', async (t) => {
  const all = await c.kubectl(['get', 'pods', '-A'], as(n1));
  t.regex(all.stderr, /pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group "" at the cluster scope/);
  t.is((await c.ok(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=n1', '-o', 'name'], as(n1))).trim(), 'pod/on-n1');
  t.regex((await c.kubectl(['get', 'pod', 'on-n2'], as(n1))).stderr, /pods "on-n2" is forbidden: .*no relationship found between node 'n1' and this object/);
  await c.ok(['patch', 'pod', 'on-n1', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}'], as(n1));
  t.regex((await c.kubectl(['label', 'pod', 'on-n1', 'x=y'], as(n1))).stderr, /node "n1" can only update pod status/);
  t.regex(
    (await c.kubectl(['patch', 'pod', 'on-n2', '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}'], as(n1))).stderr,
    /forbidden/,
  );
  // only mirror pods bound to itself may be created
  const plain = await c.kubectl(['run', 'sneaky', '--image=busybox', '--overrides={"spec":{"nodeName":"n1"}}'], as(n1));
  t.regex(plain.stderr, /pods "sneaky" is forbidden: pod does not have "kubernetes.io\/config.mirror" annotation, node "n1" can only create mirror pods/);
  const mirror = (node: string) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `static-${node}`, annotations: { 'kubernetes.io/config.mirror': 'h' } },
      spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] },
    });
  t.regex(
    (await c.kubectl(['create', '-f', '-'], { ...as(n1), input: mirror('n2') })).stderr,
    /node "n1" can only create pods with spec.nodeName set to itself/,
  );
  await c.ok(['create', '-f', '-'], { ...as(n1), input: mirror('n1') });
  await c.ok(['delete', 'pod', 'static-n1', '--grace-period=0', '--force'], as(n1));
  t.regex((await c.kubectl(['delete', 'pod', 'on-n2'], as(n1))).stderr, /forbidden/);
});

test.serial('a node renews only its own Lease and may post events', async (t) => {
  const lease = (name: string) =>
    JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40 },
    });
  await c.ok(['create', '-f', '-'], { ...as(n1), input: lease('n1') });
  await c.ok(['-n', 'kube-node-lease', 'annotate', 'lease', 'n1', 'renewed=1'], as(n1));
  t.regex(
    (await c.kubectl(['create', '-f', '-'], { ...as(n1), input: lease('n2') })).stderr,
    /leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node/,
  );
  await c.ok(['create', '-f', '-'], { input: lease('n2') });
  t.regex((await c.kubectl(['-n', 'kube-node-lease', 'get', 'lease', 'n2'], as(n1))).stderr, /forbidden/);
  await c.ok(['create', '-f', '-'], {
    ...as(n1),
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1' },
      involvedObject: { kind: 'Node', name: 'n1' },
      reason: 'Test',
      message: 'hi',
      type: 'Normal',
    }),
  });
  t.pass();
});

test.serial('bearer tokens from the token file; unknown tokens and anonymous requests get 401', async (t) => {
  const denied = await c.kubectl(['get', 'pods'], as(alice));
  t.is(denied.code, 1);
  t.regex(denied.stderr, /pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/);
  t.regex(await c.ok(['get', 'pods', '-o', 'name'], as(ops)), /pod\/on-n1/);
  const who = await c.ok(['auth', 'whoami'], as(alice));
  t.regex(who, /Username\s+alice/);
  t.regex(who, /Groups\s+\[system:authenticated\]/);
  const bad = await c.kubectl(['get', 'pods'], as(c.tokenConfig('not-a-token')));
  t.regex(bad.stderr, /Unauthorized|must be logged in/);
});

test.serial('kubectl auth can-i answers for admins, nodes and plain users', async (t) => {
  t.is((await c.ok(['auth', 'can-i', 'delete', 'nodes'])).trim(), 'yes');
  const no = await c.kubectl(['auth', 'can-i', 'create', 'pods'], as(alice));
  t.is(no.code, 1);
  t.is(no.stdout.trim(), 'no');
  t.is((await c.ok(['auth', 'can-i', 'get', 'secret/used'], as(n1))).trim(), 'yes');
  const unrelated = await c.kubectl(['auth', 'can-i', 'get', 'secret/unrelated'], as(n1));
  t.regex(unrelated.stdout, /^no - .*no relationship found between node 'n1' and this object/);
  t.is((await c.ok(['auth', 'can-i', 'patch', 'nodes/n1', '--subresource=status'], as(n1))).trim(), 'yes');
  t.is((await c.kubectl(['auth', 'can-i', 'patch', 'nodes/n2'], as(n1))).code, 1);
  // an admin asks on someone else's behalf (SubjectAccessReview)
  const asAlice = await c.kubectl(['auth', 'can-i', 'list', 'pods', '--as=alice']);
  t.is(asAlice.stdout.trim(), 'no');
  t.is((await c.ok(['auth', 'can-i', 'list', 'pods', '--as=bob', '--as-group=system:masters'])).trim(), 'yes');
  t.regex((await c.kubectl(['get', 'pods', '--as=alice'])).stderr, /User "alice" cannot list resource "pods"/);
  t.regex(
    (await c.kubectl(['get', 'pods', '--as=bob'], as(alice))).stderr,
    /users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/,
  );
  const list = await c.ok(['auth', 'can-i', '--list'], as(alice));
  t.regex(list, /selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]/);
  t.regex(await c.ok(['auth', 'can-i', '--list']), /\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
});
