// IPv4 ranges of ipBlocks (agents/netpol/ranges.ts): the union iptables mode writes as hash:net
// cidrs when one pod's rule merges several blocks with excepts.
import test from 'ava';
import { blockRanges, rangeCidrs, unionRanges, type Range } from '../../agents/netpol/ranges.ts';

const r = (cidr: string, except: string[] = []): Range[] => blockRanges(cidr, except);

test('rangeCidrs: the fewest aligned cidrs, never a /0', (t) => {
  t.deepEqual(rangeCidrs(r('10.0.0.0/8')[0]), ['10.0.0.0/8']);
  t.deepEqual(rangeCidrs([1n, 6n]), ['0.0.0.1/32', '0.0.0.2/31', '0.0.0.4/31', '0.0.0.6/32']);
  t.deepEqual(rangeCidrs(r('0.0.0.0/0')[0]), ['0.0.0.0/1', '128.0.0.0/1']);
  t.deepEqual(r('10.0.0.0/8', ['10.96.0.0/12']).flatMap(rangeCidrs), ['10.0.0.0/10', '10.64.0.0/11', '10.112.0.0/12', '10.128.0.0/9']);
});

test('unionRanges joins overlapping and touching ranges', (t) => {
  t.deepEqual(unionRanges([...r('10.0.1.0/24'), ...r('10.0.0.0/24'), ...r('10.0.0.128/25'), ...r('10.0.3.0/24')]), [...r('10.0.0.0/23'), ...r('10.0.3.0/24')]);
  t.deepEqual(unionRanges([...r('10.0.0.0/8', ['10.1.0.0/16']), ...r('10.1.0.0/16', ['10.1.1.0/24'])]).flatMap(rangeCidrs).length, 16); // 10.0.0.0/16, 10.1.0.0/24, then /23 up to 10.128.0.0/9
});
