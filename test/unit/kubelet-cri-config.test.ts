// The kubelet's CRI request builders (pods/cri-config.ts): sandbox and container configs, host ports, ephemeral targets, sandbox DNS.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { containerConfig, containerHash, sandboxConfig } from '../../agents/kubelet/pods/cri-config.ts';

const pod = (extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image: 'img:1', ports: [{ containerPort: 80, hostPort: 8080 }] }], ...extra },
  status: { phase: 'Pending' },
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
