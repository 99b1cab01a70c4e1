import test from 'ava';
import { formatIP, networkOf, nthIP, overlaps, parseCIDR, parseIP } from '../../agents/api/ip.ts';
import { CidrAllocator } from '../../agents/control-plane/controllers/ipam.ts';
import { pickFree } from '../../agents/control-plane/apiserver/strategies/service.ts';
import { firstServiceIP } from '../../agents/control-plane/bootstrap.ts';

test('IP and CIDR parsing round-trips, v4 and v6', (t) => {
  t.is(formatIP(parseIP('10.244.3.7')!), '10.244.3.7');
  t.is(formatIP(parseIP('fd00::1')!), 'fd00::1');
  t.is(formatIP(parseIP('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  t.deepEqual(networkOf(parseCIDR('10.244.1.9/24')!), parseIP('10.244.1.0')!, 'host bits are cleared');
  t.is(parseCIDR('10.0.0.0/33'), null);
  t.is(parseCIDR('nonsense'), null);
  t.true(overlaps(parseCIDR('10.0.0.0/8')!, parseCIDR('10.96.0.0/12')!));
  t.false(overlaps(parseCIDR('10.244.0.0/16')!, parseCIDR('10.96.0.0/12')!));
  t.is(nthIP(parseCIDR('10.96.0.0/12')!, 1), '10.96.0.1');
  t.is(firstServiceIP('10.96.0.0/12'), '10.96.0.1');
});

test('node CIDR allocation: distinct /24s, never twice, released on delete', (t) => {
  const a = new CidrAllocator('10.244.0.0/16', 24);
  t.true(a.occupy('10.244.0.0/24'), 'an existing node keeps its CIDR');
  const x = a.allocate();
  const y = a.allocate();
  t.is(x, '10.244.1.0/24');
  t.is(y, '10.244.2.0/24');
  t.false(a.occupy('10.244.1.0/24'), 'taken twice');
  t.false(a.occupy('192.168.0.0/24'), 'outside the cluster CIDR');
  a.release(x!);
  t.is(a.free, 256 - 2);
  const seen = new Set<string>();
  for (let i = 0; i < 254; i++) seen.add(a.allocate()!);
  t.is(seen.size, 254);
  t.is(a.allocate(), undefined, 'exhausted');
});

test('node CIDRs that overlap the service CIDR are never handed out', (t) => {
  const a = new CidrAllocator('10.0.0.0/8', 12, '10.96.0.0/12');
  const got = new Set<string>();
  for (let c = a.allocate(); c; c = a.allocate()) got.add(c);
  t.is(got.size, 15);
  t.false(got.has('10.96.0.0/12'));
});

test('pickFree finds a free value from a random start', (t) => {
  const used = new Set([5, 6, 7]);
  t.is(
    pickFree(
      5,
      8,
      (n) => used.has(n),
      () => 0,
    ),
    8,
  );
  t.is(
    pickFree(5, 7, (n) => used.has(n)),
    undefined,
  );
});
