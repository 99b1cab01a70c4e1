// Least privilege for hawser's own agents: the credentials `hawser join` hands a node give
// kube-proxy upstream's system:node-proxier (Services, EndpointSlices, nodes; nothing else) and
// podnet flannel's rights (read nodes, annotate its own Node), and neither may act as the node.
// The cluster DNS server reads as system:hawser-dns with system:coredns's rules.
import test from 'ava';
import { Resolver } from 'node:dns/promises';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createToken } from '../../agents/control-plane/join/store.ts';
import { parseToken } from '../../agents/control-plane/join/token.ts';
import { componentKubeconfigs, fetchPinnedCA, requestNodeCredentials } from '../../agents/cli/install/join.ts';
import { type Cluster, readyNode } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
const kc: Record<string, string> = {};

fileCluster(
  async (cluster) => {
    c = cluster;
    const t = parseToken((await createToken(c.dir, { ttlMs: 3600_000 })).token);
    const ca = await fetchPinnedCA(c.url, t.caHash);
    const resp = await requestNodeCredentials(c.url, ca, `${t.id}.${t.secret}`, 'n1', 'n1-node-password-0123456789');
    for (const [component, text] of Object.entries(componentKubeconfigs(c.url, ca, 'n1', resp))) {
      kc[component] = join(c.dir, `n1-${component}.kubeconfig`);
      writeFileSync(kc[component], text, { mode: 0o600 });
    }
    for (const n of ['n1', 'n2']) await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode(n, n === 'n1' ? '10.0.0.1' : '10.0.0.2')) });
    await c.ok(['create', 'secret', 'generic', 's', '--from-literal=k=v']);
  },
  { extra: { clusterDNS: { port: 0, serviceIP: '10.96.0.10', clusterDomain: 'cluster.local', resolvConf: '/etc/resolv.conf' } } },
);

const as = (component: string) => ({ kubeconfig: kc[component] });

test.serial('kube-proxy authenticates as system:kube-proxy and lists and watches Services and EndpointSlices', async (t) => {
  t.regex(await c.ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], as('kube-proxy')), /^system:kube-proxy$/);
  t.regex(await c.ok(['get', 'services', '-A', '-o', 'name'], as('kube-proxy')), /service\/kubernetes/);
  await c.ok(['get', 'endpointslices.discovery.k8s.io', '-A', '-o', 'name'], as('kube-proxy'));
  t.regex(await c.ok(['get', 'nodes', '-o', 'name'], as('kube-proxy')), /node\/n2/);
  for (const [verb, resource] of [
    ['watch', 'services'],
    ['watch', 'endpointslices.discovery.k8s.io'],
    ['list', 'endpointslices.discovery.k8s.io'],
  ]) {
    t.is((await c.ok(['auth', 'can-i', verb, resource, '-A'], as('kube-proxy'))).trim(), 'yes', `${verb} ${resource}`);
  }
});

test.serial('kube-proxy gets 403 on secrets and on creating pods', async (t) => {
  const secrets = await c.kubectl(['get', 'secrets', '-n', 'default'], as('kube-proxy'));
  t.is(secrets.code, 1);
  t.regex(secrets.stderr, /secrets is forbidden: User "system:kube-proxy" cannot list resource "secrets" in API group "" in the namespace "default"/);
  const pod = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  const create = await c.kubectl(['create', '-f', '-'], { ...as('kube-proxy'), input: pod });
  t.regex(create.stderr, /pods is forbidden: User "system:kube-proxy" cannot create resource "pods" in API group "" in the namespace "default"/);
  t.is((await c.kubectl(['get', 'pod', 'p'])).code, 1, 'nothing stored');
});

test.serial("a node's kube-proxy credential cannot act as the node", async (t) => {
  const label = await c.kubectl(['label', 'node', 'n1', 'x=y'], as('kube-proxy'));
  t.regex(label.stderr, /nodes "n1" is forbidden: User "system:kube-proxy" cannot patch resource "nodes" in API group "" at the cluster scope/);
  const lease = JSON.stringify({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'n1', namespace: 'kube-node-lease' },
    spec: { holderIdentity: 'n1' },
  });
  const renew = await c.kubectl(['apply', '-f', '-'], { ...as('kube-proxy'), input: lease });
  t.regex(renew.stderr, /leases.coordination.k8s.io "n1" is forbidden: User "system:kube-proxy" cannot (get|patch|create) resource "leases"/);
  const token = await c.kubectl(['create', 'token', 'default'], as('kube-proxy'));
  t.regex(token.stderr, /User "system:kube-proxy" cannot create resource "serviceaccounts\/token"/);
  t.is((await c.kubectl(['auth', 'can-i', 'update', 'nodes/status'], as('kube-proxy'))).stdout.trim(), 'no');
});

test.serial('podnet reads nodes and annotates only its own Node; it cannot read secrets or change anything else', async (t) => {
  t.regex(await c.ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], as('podnet')), /^system:podnet:n1$/);
  t.regex(await c.ok(['get', 'nodes', '-o', 'name'], as('podnet')), /node\/n2/);
  await c.ok(['patch', 'node', 'n1', '--type=merge', '-p', '{"metadata":{"annotations":{"hawser.io/vtep-mac":"0a:00:00:00:00:01"}}}'], as('podnet'));
  t.is(await c.ok(['get', 'node', 'n1', '-o', 'jsonpath={.metadata.annotations.hawser\\.io/vtep-mac}']), '0a:00:00:00:00:01');
  const other = await c.kubectl(['patch', 'node', 'n2', '--type=merge', '-p', '{"metadata":{"annotations":{"x":"y"}}}'], as('podnet'));
  t.regex(other.stderr, /nodes "n2" is forbidden: podnet of node "n1" is not allowed to modify node "n2"/);
  const spec = await c.kubectl(['patch', 'node', 'n1', '--type=merge', '-p', '{"spec":{"unschedulable":true}}'], as('podnet'));
  t.regex(spec.stderr, /nodes "n1" is forbidden: podnet of node "n1" may only modify the annotations of its node/);
  const label = await c.kubectl(['label', 'node', 'n1', 'x=y'], as('podnet'));
  t.regex(label.stderr, /may only modify the annotations of its node/);
  t.is(await c.ok(['get', 'node', 'n1', '-o', 'jsonpath={.spec.unschedulable}{.metadata.labels.x}']), '', 'nothing stored');
  // NetworkPolicy enforcement runs in podnet: it lists pods, namespaces and policies cluster-wide, as kube-router does
  for (const what of ['pods', 'namespaces', 'networkpolicies.networking.k8s.io']) {
    t.is(await c.ok(['auth', 'can-i', 'watch', what, '-A'], as('podnet')).then((o) => o.trim()), 'yes', what);
  }
  t.is((await c.kubectl(['auth', 'can-i', 'create', 'pods'], as('podnet'))).stdout.trim(), 'no');
  const secrets = await c.kubectl(['get', 'secret', 's'], as('podnet'));
  t.regex(secrets.stderr, /secrets "s" is forbidden: User "system:podnet:n1" cannot get resource "secrets"/);
  const del = await c.kubectl(['delete', 'node', 'n2'], as('podnet'));
  t.regex(del.stderr, /forbidden/);
});

test.serial('the cluster DNS server reads as system:hawser-dns: it answers from Services, and its credential cannot read secrets or write', async (t) => {
  const dns = join(c.dir, 'dns.kubeconfig');
  t.is(statSync(dns).mode & 0o777, 0o600);
  t.regex(await c.ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig: dns }), /^system:hawser-dns$/);
  const port = await c.ok(['get', 'endpointslice', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.ports[0].port}']);
  const r = new Resolver({ timeout: 2000, tries: 2 });
  r.setServers([`127.0.0.1:${port}`]);
  t.deepEqual(await r.resolve4('kubernetes.default.svc.cluster.local'), ['10.96.0.1']);
  const secrets = await c.kubectl(['get', 'secrets', '-A'], { kubeconfig: dns });
  t.regex(secrets.stderr, /secrets is forbidden: User "system:hawser-dns" cannot list resource "secrets" in API group "" at the cluster scope/);
  const del = await c.kubectl(['delete', 'service', 'kube-dns', '-n', 'kube-system'], { kubeconfig: dns });
  t.regex(del.stderr, /User "system:hawser-dns" cannot delete resource "services"/);
});

test.serial(
  'the ingress controller reads as system:hawser-ingress: ingresses, classes, services, slices, secrets, nodes; it writes only ingresses/status',
  async (t) => {
    t.regex(await c.ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], as('ingress')), /^system:hawser-ingress$/);
    for (const [verb, resource] of [
      ['watch', 'ingresses.networking.k8s.io'],
      ['list', 'ingressclasses.networking.k8s.io'],
      ['watch', 'services'],
      ['watch', 'endpointslices.discovery.k8s.io'],
      ['watch', 'secrets'],
      ['list', 'nodes'],
    ]) {
      t.is((await c.ok(['auth', 'can-i', verb, resource, '-A'], as('ingress'))).trim(), 'yes', `${verb} ${resource}`);
    }
    const ing = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'i', namespace: 'default' },
      spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
    };
    const create = await c.kubectl(['create', '-f', '-'], { ...as('ingress'), input: JSON.stringify(ing) });
    t.regex(create.stderr, /ingresses.networking.k8s.io is forbidden: User "system:hawser-ingress" cannot create resource "ingresses"/);
    await c.ok(['create', '-f', '-'], { input: JSON.stringify(ing) });
    const status = await c.kubectl(
      ['patch', 'ingress', 'i', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.1"}]}}}'],
      as('ingress'),
    );
    t.is(status.code, 0, status.stderr);
    const spec = await c.kubectl(['patch', 'ingress', 'i', '--type=merge', '-p', '{"spec":{"ingressClassName":"x"}}'], as('ingress'));
    t.regex(spec.stderr, /User "system:hawser-ingress" cannot patch resource "ingresses"/);
    t.is((await c.kubectl(['auth', 'can-i', 'create', 'pods'], as('ingress'))).stdout.trim(), 'no');
    await c.ok(['delete', 'ingress', 'i']);
  },
);
