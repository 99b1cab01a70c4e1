// [sig-network] pod networking, after upstream's "Networking Granular Checks": one HTTP server pod
// per node and a client on the first node, so the same test covers pod to pod on one node and
// across nodes; the node-pod variant fetches from a hostNetwork pod (the node's own namespace).
// The test image has no UDP server (busybox nc lacks -u), so the :udp variants are not mirrored.
import { conformance, internalIP, readyNodes, waitReady, type Ctx } from '../conformance/fixture.ts';
import { pod, sleeper } from '../conformance/manifests.ts';

const it = conformance('net-pods');

interface Server {
  name: string;
  ip: string;
  node: string;
}

/** A netserver on each schedulable node (upstream caps at a few; two-node labs use both). */
async function netservers(c: Ctx, max = 3): Promise<Server[]> {
  const nodes = readyNodes(c.kc).slice(0, max);
  if (nodes.length < 2) throw new Error(`need at least 2 schedulable Ready nodes for cross-node checks, found ${nodes.length}`);
  const names = nodes.map((_, i) => `netserver-${i}`);
  c.k.create(...nodes.map((n, i) => pod(names[i], c.env.image, { labels: { selector: 'netserver' }, node: n.metadata.name })));
  const pods = await waitReady(c.k, names);
  return pods.map((p) => ({ name: p.metadata.name, ip: p.status.podIP, node: p.spec.nodeName }));
}

/** Every server must answer the client with its own hostname; the error lists each failing pair. */
function checkAll(c: Ctx, client: string, clientNode: string, servers: Server[]): string[] {
  const fails: string[] = [];
  const seen: string[] = [];
  for (const s of servers) {
    const where = s.node === clientNode ? 'same node' : `across nodes ${clientNode} -> ${s.node}`;
    let last = '';
    // upstream retries each endpoint a few times before giving up
    for (let i = 0; i < 3; i++) {
      const r = c.k.fetchFrom(client, `http://${s.ip}:8080/`);
      last = r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${(r.stderr || r.stdout).trim()}`;
      if (r.code === 0 && last === s.name) break;
    }
    if (last === s.name) seen.push(`${s.name} (${where})`);
    else fails.push(`${client} -> ${s.name} ${s.ip}:8080 (${where}): got "${last}"`);
  }
  if (fails.length) throw new Error(`${fails.length} of ${servers.length} pod endpoints unreachable: ${fails.join('; ')}`);
  return seen;
}

it('[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http [NodeConformance] [Conformance]', async (t, c) => {
  const servers = await netservers(c);
  const node = servers[0].node;
  c.k.create(pod('test-container-pod', c.env.image, { node }));
  await waitReady(c.k, ['test-container-pod']);
  const seen = checkAll(c, 'test-container-pod', node, servers);
  t.log(`reached ${seen.join(', ')}`);
  t.true(servers.some((s) => s.node === node) && servers.some((s) => s.node !== node), 'covered one node and across nodes');
  t.is(new Set(seen).size, servers.length, 'unique hostnames');
});

it('[sig-network] Networking Granular Checks: Pods should function for node-pod communication: http [LinuxOnly] [NodeConformance] [Conformance]', async (t, c) => {
  const servers = await netservers(c);
  const node = servers[0].node;
  c.k.create(sleeper('host-test-container-pod', c.env.image, { node, hostNetwork: true }));
  const [host] = await waitReady(c.k, ['host-test-container-pod']);
  const n = readyNodes(c.kc).find((x) => x.metadata.name === node);
  t.is(host.status.podIP, internalIP(n), "a hostNetwork pod has its node's IP");
  const seen = checkAll(c, 'host-test-container-pod', node, servers);
  t.log(`from node ${node}: reached ${seen.join(', ')}`);
  t.is(seen.length, servers.length);
});
