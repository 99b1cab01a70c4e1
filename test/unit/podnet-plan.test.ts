import test from 'ava';
import type { V1Node } from '@kubernetes/client-node';
import { cniConflist, desiredRoutes, masqueradeRules, routeChanges, staleBridgeAddresses } from '../../agents/podnet/plan.ts';

const node = (name: string, ip: string | undefined, cidr?: string): V1Node => ({
  metadata: { name },
  spec: cidr ? { podCIDR: cidr, podCIDRs: [cidr] } : {},
  status: {
    addresses: ip
      ? [
          { type: 'Hostname', address: name },
          { type: 'InternalIP', address: ip },
        ]
      : [],
  },
});

test('routes go to every other node podCIDR via its InternalIP, never to self', (t) => {
  const nodes = [node('a', '10.0.0.1', '10.244.0.0/24'), node('b', '10.0.0.2', '10.244.1.0/24'), node('c', '10.0.0.3', '10.244.2.0/24')];
  t.deepEqual(desiredRoutes(nodes, 'a'), [
    { dst: '10.244.1.0/24', via: '10.0.0.2' },
    { dst: '10.244.2.0/24', via: '10.0.0.3' },
  ]);
});

test('nodes without an address or a podCIDR yet get no route', (t) => {
  t.deepEqual(desiredRoutes([node('a', '10.0.0.1', '10.244.0.0/24'), node('b', undefined, '10.244.1.0/24'), node('c', '10.0.0.3')], 'a'), []);
});

test('route changes: add the missing, delete the stale, keep the rest', (t) => {
  const cur = [
    { dst: '10.244.1.0/24', via: '10.0.0.2' },
    { dst: '10.244.9.0/24', via: '10.0.0.9' },
    { dst: '10.244.2.0/24', via: '10.0.0.7' },
  ];
  const want = [
    { dst: '10.244.1.0/24', via: '10.0.0.2' },
    { dst: '10.244.2.0/24', via: '10.0.0.3' },
  ];
  const { add, del } = routeChanges(cur, want);
  t.deepEqual(add, [{ dst: '10.244.2.0/24', via: '10.0.0.3' }]);
  t.deepEqual(del, [
    { dst: '10.244.9.0/24', via: '10.0.0.9' },
    { dst: '10.244.2.0/24', via: '10.0.0.7' },
  ]);
});

test('CNI config: bridge with host-local on the podCIDR, portmap only when installed', (t) => {
  const c = cniConflist({ podCIDR: '10.244.3.0/24', bridge: 'cni0', ipamDataDir: '/d', portmap: false }) as { plugins: any[] };
  t.is(c.plugins.length, 1);
  t.deepEqual(c.plugins[0].ipam.ranges, [[{ subnet: '10.244.3.0/24' }]]);
  t.is(c.plugins[0].ipam.dataDir, '/d');
  t.false(c.plugins[0].ipMasq, 'pod-to-pod traffic must keep the pod source address');
  const withPm = cniConflist({ podCIDR: '10.244.3.0/24', bridge: 'cni0', ipamDataDir: '/d', portmap: true }) as { plugins: any[] };
  t.is(withPm.plugins[1].type, 'portmap');
});

test('masquerade skips the cluster CIDR and masquerades the rest', (t) => {
  const r = masqueradeRules('10.244.0.0/16').split('\n');
  t.true(r.indexOf('-A HAWSER-POD-MASQ -d 10.244.0.0/16 -j RETURN') < r.indexOf('-A HAWSER-POD-MASQ -s 10.244.0.0/16 -j MASQUERADE'));
  t.is(r[0], '*nat');
  t.true(r.includes('COMMIT'));
});

test('bridge addresses outside a new podCIDR are stale; the gateway of the current one and IPv6 stay', (t) => {
  // the node had 10.244.3.0/24, was deleted and registered again, and now has 10.244.7.0/24
  t.deepEqual(staleBridgeAddresses(['10.244.3.1/24', 'fe80::1/64'], '10.244.7.0/24'), ['10.244.3.1/24']);
  t.deepEqual(staleBridgeAddresses(['10.244.7.1/24'], '10.244.7.0/24'), []);
  t.deepEqual(staleBridgeAddresses([], '10.244.7.0/24'), []);
  // a wider range holds the old address: nothing to remove
  t.deepEqual(staleBridgeAddresses(['10.244.3.1/24'], '10.244.0.0/16'), []);
});
