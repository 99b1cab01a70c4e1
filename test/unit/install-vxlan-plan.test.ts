// podnet's VXLAN planner (agents/podnet/vxlan-plan.ts): per remote node an FDB entry, a neighbour
// and an onlink route, from Node objects alone.
import test from 'ava';
import type { V1Node } from '@kubernetes/client-node';
import { desiredVxlan, networkAddress, selfVtep, vtepMAC, vxlanChanges, VTEP_MAC_ANNOTATION } from '../../agents/podnet/vxlan-plan.ts';

const node = (name: string, ip?: string, cidr?: string, mac: string | null = vtepMAC(name)): V1Node => ({
  metadata: { name, annotations: mac ? { [VTEP_MAC_ANNOTATION]: mac } : {} },
  spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
  status: { addresses: ip ? [{ type: 'InternalIP', address: ip }] : [] },
});

test('VTEP MACs are stable per name, unicast and locally administered', (t) => {
  const m = vtepMAC('worker1');
  t.is(m, vtepMAC('worker1'));
  t.not(m, vtepMAC('worker2'));
  t.regex(m, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  const first = parseInt(m.slice(0, 2), 16);
  t.is(first & 1, 0, 'unicast');
  t.is(first & 2, 2, 'locally administered');
});

test('network address of a CIDR', (t) => {
  t.is(networkAddress('10.244.3.0/24'), '10.244.3.0');
  t.is(networkAddress('10.244.3.77/24'), '10.244.3.0');
  t.is(networkAddress('10.245.128.0/17'), '10.245.128.0');
});

test('entries for every other node with an address, a podCIDR and a published MAC', (t) => {
  const nodes = [
    node('a', '192.168.56.11', '10.244.1.0/24'),
    node('b', '192.168.57.12', '10.244.2.0/24'),
    node('c', undefined, '10.244.3.0/24'),
    node('d', '192.168.56.14'),
    node('e', '192.168.56.15', '10.244.5.0/24', null),
  ];
  const b = vtepMAC('b');
  t.deepEqual(desiredVxlan(nodes, 'a'), {
    fdb: [{ mac: b, dst: '192.168.57.12' }],
    neigh: [{ ip: '10.244.2.0', mac: b }],
    routes: [{ dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'hawser.vxlan' }],
  });
});

test('self: local address from InternalIP or --node-ip, address x.y.z.0/32; nothing until both exist', (t) => {
  t.deepEqual(selfVtep(node('a', '192.168.56.11', '10.244.1.0/24')), { localIP: '192.168.56.11', address: '10.244.1.0/32', mac: vtepMAC('a') });
  t.is(selfVtep(node('a', '192.168.56.11', '10.244.1.0/24'), '10.0.0.9')?.localIP, '10.0.0.9');
  t.is(selfVtep(node('a', '192.168.56.11')), undefined);
  t.is(selfVtep(undefined), undefined);
});

test('changes: a node that moved gets its old entries deleted and new ones added', (t) => {
  const before = desiredVxlan([node('a', '10.0.0.1', '10.244.1.0/24'), node('b', '10.0.0.2', '10.244.2.0/24')], 'a');
  const after = desiredVxlan([node('a', '10.0.0.1', '10.244.1.0/24'), node('b', '10.0.0.22', '10.244.2.0/24')], 'a');
  const c = vxlanChanges(before, after);
  t.deepEqual(c.del.fdb, [{ mac: vtepMAC('b'), dst: '10.0.0.2' }]);
  t.deepEqual(c.add.fdb, [{ mac: vtepMAC('b'), dst: '10.0.0.22' }]);
  t.deepEqual(c.add.routes, []);
  t.deepEqual(vxlanChanges(after, after), { add: { fdb: [], neigh: [], routes: [] }, del: { fdb: [], neigh: [], routes: [] } });
});
