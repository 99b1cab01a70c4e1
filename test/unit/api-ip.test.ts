// agents/api/ip.ts, the one IP/CIDR module: the arithmetic node IPAM and Service allocation use, the
// string helpers kube-proxy, check-config and the lab use, and no second parser anywhere.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  cidrContains,
  cidrsOverlap,
  formatCIDR,
  nthIP,
  nthSubnet,
  overlaps,
  parseCIDR,
  parseCIDROrIP,
  parseIP,
  size,
  subnetCount,
  subnetIndex,
} from '../../agents/api/ip.ts';

const c = (s: string) => parseCIDR(s)!;

test('subnets: count (capped), n-th, index of a member, nothing for a non-member', (t) => {
  t.is(subnetCount(c('10.244.0.0/16'), 24), 256);
  t.is(subnetCount(c('10.244.0.0/16'), 8), 0);
  t.is(subnetCount(c('fd00::/8'), 120), 2 ** 30);
  t.is(formatCIDR(nthSubnet(c('10.244.0.0/16'), 24, 3)), '10.244.3.0/24');
  t.is(formatCIDR(nthSubnet(c('10.244.7.9/16'), 24, 0)), '10.244.0.0/24', 'counted from the network address');
  t.is(formatCIDR(nthSubnet(c('fd00::/64'), 80, 1)), 'fd00::1:0:0:0/80');
  t.is(subnetIndex(c('10.244.0.0/16'), 24, c('10.244.9.0/24')), 9);
  t.is(subnetIndex(c('10.244.0.0/16'), 24, c('10.244.9.5/24')), 9, 'host bits of the member ignored');
  t.is(subnetIndex(c('10.244.0.0/16'), 24, c('10.245.0.0/24')), undefined);
  t.is(subnetIndex(c('10.244.0.0/16'), 24, c('10.244.0.0/25')), undefined);
  t.is(subnetIndex(c('10.244.0.0/16'), 24, c('fd00::/24')), undefined);
});

test('addresses of a CIDR: n-th from the network address, size', (t) => {
  t.is(nthIP(c('10.96.0.0/12'), 1), '10.96.0.1');
  t.is(nthIP(c('10.96.3.3/12'), 10), '10.96.0.10');
  t.is(nthIP(c('fd00:10:96::/108'), 255), 'fd00:10:96::ff');
  t.is(size(c('10.96.0.0/12')), 1n << 20n);
  t.is(size(c('10.0.0.1/32')), 1n);
});

test('overlap is symmetric and per family', (t) => {
  t.true(overlaps(c('10.0.0.0/8'), c('10.96.0.0/12')));
  t.true(overlaps(c('10.96.0.0/12'), c('10.0.0.0/8')));
  t.false(overlaps(c('10.244.0.0/16'), c('10.96.0.0/12')));
  t.false(overlaps(c('0.0.0.0/0'), c('::/0')));
});

test('string helpers: a bare address is its host route, unparseable text matches nothing', (t) => {
  t.deepEqual(parseCIDROrIP('10.1.2.3'), c('10.1.2.3/32'));
  t.deepEqual(parseCIDROrIP('fd00::1'), c('fd00::1/128'));
  const cases: [typeof cidrContains, string, string, boolean][] = [
    [cidrContains, '10.0.0.0/8', '10.255.1.2', true],
    [cidrContains, '10.0.0.0/8', '11.0.0.1', false],
    [cidrContains, '0.0.0.0/0', '1.2.3.4', true],
    [cidrContains, '1.2.3.4', '1.2.3.4', true],
    [cidrContains, '192.168.0.0/25', '192.168.0.200', false],
    [cidrContains, 'fd00::/64', 'fd00::5', true],
    [cidrContains, '10.0.0.0/8', 'fd00::5', false],
    [cidrContains, 'default', '10.0.0.1', false],
    [cidrsOverlap, '10.244.0.0/16', '10.244.3.0/24', true],
    [cidrsOverlap, '10.244.3.7', '10.244.3.0/24', true],
    [cidrsOverlap, 'default', '10.0.0.0/8', false],
    [cidrsOverlap, '10.77.0.0/24', '10.78.0.0/24', false],
    [cidrsOverlap, '10.0.0.0/8', '10.77.0.0/24', true],
    [cidrsOverlap, '192.168.1.0/24', '10.244.0.0/16', false],
  ];
  for (const [f, a, b, want] of cases) t.is(f(a, b), want, `${f.name}(${a}, ${b})`);
});

test('parsing is as strict as Go: leading zeros, zones and bad prefixes refused; mapped IPv4 is IPv4', (t) => {
  for (const bad of ['010.0.0.1', '1.2.3', '1.2.3.256', 'fe80::1%eth0', '1::2::3']) t.is(parseIP(bad), null, bad);
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'fd00::/129', '10.0.0.0']) t.is(parseCIDR(bad), null, bad);
  t.deepEqual(parseIP('::ffff:10.1.2.3'), parseIP('10.1.2.3'));
});

function sources(p: string): string[] {
  if (!statSync(p).isDirectory()) return p.endsWith('.ts') ? [p] : [];
  return readdirSync(p)
    .filter((n) => n !== 'node_modules')
    .flatMap((n) => sources(join(p, n)));
}

test('one IP/CIDR parser: no other source parses addresses by hand', (t) => {
  const others = ['agents', 'cni-plugins']
    .flatMap(sources)
    .filter((f) => f !== 'agents/api/ip.ts' && /function (parseCIDR|parseIP|cidrContains|overlaps)\b|split\('\.'\)\.reduce/.test(readFileSync(f, 'utf8')));
  t.deepEqual(others, []);
});
