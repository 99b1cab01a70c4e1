// Cross-node pod traffic with podnet's two backends, in throwaway network namespaces: two "nodes"
// (joined by a bridge in a switch namespace, or on two subnets behind a router namespace), each
// with a pod bridge and one pod. host-gw routes come from plan.ts, VXLAN from startVxlan. Nothing
// is created in the root namespace; every namespace goes at the end, pass or fail.
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { desiredRoutes } from '../../agents/podnet/plan.ts';
import { netnsExec, readState, RT_PROTO, startVxlan } from '../../agents/podnet/vxlan.ts';
import { VTEP_MAC_ANNOTATION, VXLAN_DEVICE, vtepMAC } from '../../agents/podnet/vxlan-plan.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sysctl = (ns: string, kv: string) => execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', kv]);

interface NodeSpec {
  name: string;
  ns: string;
  ip: string;
  prefix: number;
  gw?: string;
  podCIDR: string;
  podNs: string;
  podIP: string;
}
interface Topo {
  nodes: NodeSpec[];
  all: string[];
}

function makeTopo(t: ExecutionContext, routed: boolean): Topo {
  const id = randomBytes(3).toString('hex');
  const all: string[] = [];
  t.teardown(() => {
    for (const ns of all) {
      try {
        ip('netns', 'del', ns);
      } catch {
        /* gone */
      }
    }
  });
  const netns = (name: string) => {
    ip('netns', 'add', name);
    all.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  };

  const nodes: NodeSpec[] = [1, 2].map((i) => ({
    name: `node${i}`,
    ns: `hxp-${id}-n${i}`,
    ip: routed ? `10.123.${i}.11` : `10.123.0.1${i}`,
    prefix: 24,
    gw: routed ? `10.123.${i}.1` : undefined,
    podCIDR: `10.244.${i}.0/24`,
    podNs: `hxp-${id}-p${i}`,
    podIP: `10.244.${i}.2`,
  }));
  const hub = netns(`hxp-${id}-${routed ? 'rt' : 'sw'}`);
  if (!routed) {
    ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', hub, 'link', 'set', 'br0', 'up');
  } else sysctl(hub, 'net.ipv4.ip_forward=1');
  nodes.forEach((n, i) => {
    netns(n.ns);
    sysctl(n.ns, 'net.ipv4.ip_forward=1');
    const port = `to-n${i + 1}`;
    ip('-n', hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.ns);
    if (routed) ip('-n', hub, 'addr', 'add', `${n.gw}/24`, 'dev', port);
    else ip('-n', hub, 'link', 'set', port, 'master', 'br0');
    ip('-n', hub, 'link', 'set', port, 'up');
    ip('-n', n.ns, 'addr', 'add', `${n.ip}/${n.prefix}`, 'dev', 'eth0');
    ip('-n', n.ns, 'link', 'set', 'eth0', 'up');
    if (n.gw) ip('-n', n.ns, 'route', 'add', 'default', 'via', n.gw);
    // the pod side, as the bridge CNI plugin leaves it: cni0 holds the gateway, the pod a veth
    const gw = n.podCIDR.replace(/0\/24$/, '1');
    ip('-n', n.ns, 'link', 'add', 'cni0', 'type', 'bridge');
    ip('-n', n.ns, 'addr', 'add', `${gw}/24`, 'dev', 'cni0');
    ip('-n', n.ns, 'link', 'set', 'cni0', 'up');
    netns(n.podNs);
    ip('-n', n.ns, 'link', 'add', 'vpod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.podNs);
    ip('-n', n.ns, 'link', 'set', 'vpod', 'master', 'cni0', 'up');
    ip('-n', n.podNs, 'addr', 'add', `${n.podIP}/24`, 'dev', 'eth0');
    ip('-n', n.podNs, 'link', 'set', 'eth0', 'up');
    ip('-n', n.podNs, 'route', 'add', 'default', 'via', gw);
  });
  return { nodes, all };
}

/** The Node objects the API would hold, VTEP MACs already published. */
const nodeObjects = (topo: Topo): V1Node[] =>
  topo.nodes.map((n) => ({
    metadata: { name: n.name, annotations: { [VTEP_MAC_ANNOTATION]: vtepMAC(n.name) } },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: { addresses: [{ type: 'InternalIP', address: n.ip }] },
  }));

/** One ping from a pod to another, at most `tries` tries of 1 s (one when expecting failure). */
function podPings(from: NodeSpec, to: NodeSpec, tries = 3): boolean {
  for (let i = 0; i < tries; i++) {
    try {
      execFileSync('ip', ['netns', 'exec', from.podNs, 'busybox', 'ping', '-c', '1', '-W', '1', to.podIP], { stdio: 'ignore', timeout: 5000 });
      return true;
    } catch {
      /* retry */
    }
  }
  return false;
}

const txPackets = (ns: string, dev: string): number =>
  (JSON.parse(ip('-n', ns, '-s', '-j', 'link', 'show', dev)) as { stats64: { tx: { packets: number } } }[])[0].stats64.tx.packets;

function applyHostGw(topo: Topo, nodes: V1Node[]): void {
  for (const n of topo.nodes) {
    for (const r of desiredRoutes(nodes, n.name)) ip('-n', n.ns, 'route', 'replace', r.dst, 'via', r.via, 'proto', RT_PROTO);
  }
}

test('same L2: pods on two nodes reach each other with host-gw, then with VXLAN replacing host-gw', async (t) => {
  const topo = makeTopo(t, false);
  const [a, b] = topo.nodes;
  const nodes = nodeObjects(topo);
  t.false(podPings(a, b, 1), 'without podnet routes the pods must not reach each other');

  applyHostGw(topo, nodes);
  t.true(podPings(a, b), 'host-gw: pod a -> pod b');
  t.true(podPings(b, a), 'host-gw: pod b -> pod a');

  const backends = topo.nodes.map((n) => startVxlan({ nodeName: n.name, exec: netnsExec(n.ns) }));
  for (const be of backends) await be.reconcile(nodes);
  for (const n of topo.nodes) {
    const routes = (await readState(netnsExec(n.ns), VXLAN_DEVICE)).routes;
    t.is(routes.length, 1, `${n.name}: one podnet route, the host-gw one replaced`);
    t.is(routes[0].dev, VXLAN_DEVICE);
  }
  t.is(backends[0].mtu(), 1450);
  const before = txPackets(a.ns, VXLAN_DEVICE);
  t.true(podPings(a, b), 'vxlan: pod a -> pod b');
  t.true(podPings(b, a), 'vxlan: pod b -> pod a');
  t.true(txPackets(a.ns, VXLAN_DEVICE) > before, 'the traffic went through the VXLAN device');

  // a second reconcile changes nothing; a node that leaves takes its entries with it
  const state = await readState(netnsExec(a.ns), VXLAN_DEVICE);
  await backends[0].reconcile(nodes);
  t.deepEqual(await readState(netnsExec(a.ns), VXLAN_DEVICE), state);
  await backends[0].reconcile(nodes.filter((n) => n.metadata?.name === a.name));
  t.deepEqual(await readState(netnsExec(a.ns), VXLAN_DEVICE), { fdb: [], neigh: [], routes: [] });
  t.false(podPings(a, b, 1), "entries gone: no route to the other node's pods");
});

test('nodes on different subnets behind a router: host-gw cannot route, VXLAN does', async (t) => {
  const topo = makeTopo(t, true);
  const [a, b] = topo.nodes;
  const nodes = nodeObjects(topo);
  const err = t.throws(() => applyHostGw(topo, nodes));
  t.regex(String((err as Error & { stderr?: string })?.stderr ?? err?.message), /gateway|unreachable/i, "the kernel refuses a next hop off the node's L2");

  for (const n of topo.nodes) await startVxlan({ nodeName: n.name, exec: netnsExec(n.ns) }).reconcile(nodes);
  t.true(podPings(a, b), 'vxlan across the router: pod a -> pod b');
  t.true(podPings(b, a), 'vxlan across the router: pod b -> pod a');
});

test('the VXLAN device is corrected in place or recreated when its settings drift', async (t) => {
  const topo = makeTopo(t, false);
  const [a] = topo.nodes;
  const x = netnsExec(a.ns);
  const nodes = nodeObjects(topo);
  const be = startVxlan({ nodeName: a.name, exec: x });
  await be.reconcile(nodes);
  ip('-n', a.ns, 'link', 'set', VXLAN_DEVICE, 'address', '02:00:00:00:00:01', 'mtu', '1300');
  await be.reconcile(nodes);
  const link = JSON.parse(ip('-n', a.ns, '-j', '-d', 'link', 'show', VXLAN_DEVICE))[0];
  t.is(link.address, vtepMAC(a.name));
  t.is(link.mtu, 1450);
  // another VNI on the same name: recreated with ours
  ip('-n', a.ns, 'link', 'del', VXLAN_DEVICE);
  ip('-n', a.ns, 'link', 'add', VXLAN_DEVICE, 'type', 'vxlan', 'id', '42', 'local', a.ip, 'dstport', '4789');
  await be.reconcile(nodes);
  const again = JSON.parse(ip('-n', a.ns, '-j', '-d', 'link', 'show', VXLAN_DEVICE))[0];
  t.is(again.linkinfo.info_data.id, 1);
  t.is(again.linkinfo.info_data.port, 8472);
  t.false(again.linkinfo.info_data.learning);
  t.deepEqual(
    JSON.parse(ip('-n', a.ns, '-j', '-4', 'addr', 'show', 'dev', VXLAN_DEVICE))[0].addr_info.map((x2: { local: string }) => x2.local),
    ['10.244.1.0'],
  );
});
