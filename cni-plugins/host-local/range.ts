// host-local ranges: a subnet with optional rangeStart/rangeEnd/gateway, canonicalised and checked
// with the reference's rules and messages. Pure.
import {
  cmpIP,
  contains,
  formatCIDR,
  formatIP,
  ipEqual,
  lastOf,
  networkOf,
  nextIP,
  parseCIDR,
  parseIP,
  prefixBits,
  type CIDR,
  type IP,
} from '../../agents/api/ip.ts';

export interface RangeConf {
  subnet?: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}
export interface Range {
  subnet: CIDR; // network address, prefix
  rangeStart: IP;
  rangeEnd: IP;
  gateway: IP;
}
export type RangeSet = Range[];

/** JSON-level parse of one range (what Go's unmarshal would reject). */
function parseConf(c: RangeConf): { subnet: CIDR; start?: IP; end?: IP; gw?: IP } {
  if (c.subnet === undefined || c.subnet === '') throw new Error('IP <nil> not v4 nor v6');
  const subnet = parseCIDR(c.subnet);
  if (!subnet) throw new Error(`invalid CIDR address: ${c.subnet}`);
  const ip = (s: string | undefined): IP | undefined => {
    if (s === undefined || s === '') return undefined;
    const p = parseIP(s);
    if (!p) throw new Error(`invalid IP address: ${s}`);
    return p;
  };
  return { subnet, start: ip(c.rangeStart), end: ip(c.rangeEnd), gw: ip(c.gateway) };
}

export function rangeContains(r: Pick<Range, 'subnet'> & Partial<Range>, ip: IP): boolean {
  if (!contains(r.subnet, ip)) return false;
  if (r.rangeStart && cmpIP(ip, r.rangeStart) < 0) return false;
  if (r.rangeEnd && cmpIP(ip, r.rangeEnd) > 0) return false;
  return true;
}

export function rangeString(r: Range): string {
  return `${formatIP(r.rangeStart)}-${formatIP(r.rangeEnd)}`;
}

export function canonicalizeRange(c: RangeConf): Range {
  const { subnet, start, end, gw } = parseConf(c);
  const v = subnet.ip.v;
  if (subnet.prefix > prefixBits(v) - 2) throw new Error(`Network ${formatCIDR(subnet)} too small to allocate from`);
  const network = networkOf(subnet);
  if (!ipEqual(network, subnet.ip)) {
    throw new Error(`Network has host bits set. For a subnet mask of length ${subnet.prefix} the network address is ${formatIP(network)}`);
  }
  const sub: CIDR = { ip: network, prefix: subnet.prefix };
  const gateway = gw ?? nextIP(network);
  if (start && !rangeContains({ subnet: sub }, start)) {
    throw new Error(`RangeStart ${formatIP(start)} not in network ${formatCIDR(sub)}`);
  }
  if (end && !rangeContains({ subnet: sub }, end)) {
    throw new Error(`RangeEnd ${formatIP(end)} not in network ${formatCIDR(sub)}`);
  }
  let last = lastOf(sub);
  if (v === 4) last = { v, n: last.n - 1n }; // skip the broadcast address
  return { subnet: sub, rangeStart: start ?? nextIP(network), rangeEnd: end ?? last, gateway };
}

function rangesOverlap(a: Range, b: Range): boolean {
  if (a.subnet.ip.v !== b.subnet.ip.v) return false;
  return rangeContains(a, b.rangeStart) || rangeContains(a, b.rangeEnd) || rangeContains(b, a.rangeStart) || rangeContains(b, a.rangeEnd);
}

export function canonicalizeRangeSet(confs: RangeConf[]): RangeSet {
  if (!Array.isArray(confs) || confs.length === 0) throw new Error('empty range set');
  const set = confs.map(canonicalizeRange);
  if (set.some((r) => r.subnet.ip.v !== set[0].subnet.ip.v)) throw new Error('mixed address families');
  for (let i = 0; i < set.length; i++) {
    for (let j = i + 1; j < set.length; j++) {
      if (rangesOverlap(set[i], set[j])) throw new Error(`subnets ${rangeString(set[i])} and ${rangeString(set[j])} overlap`);
    }
  }
  return set;
}

export function rangeSetOverlaps(a: RangeSet, b: RangeSet): boolean {
  return a.some((x) => b.some((y) => rangesOverlap(x, y)));
}

export function rangeFor(set: RangeSet, ip: IP): Range | undefined {
  return set.find((r) => rangeContains(r, ip));
}

export function rangeSetString(set: RangeSet): string {
  return set.map(rangeString).join(',');
}

/**
 * Candidate addresses in allocation order: round-robin from the one after `last` (if it lies in the
 * set), otherwise from the first range's start; each range's gateway is skipped; one full cycle at most.
 */
export function* candidates(set: RangeSet, last: IP | undefined): Generator<{ ip: IP; range: Range }> {
  let idx = 0;
  let cur: IP | undefined;
  if (last) {
    const i = set.findIndex((r) => rangeContains(r, last));
    if (i >= 0) {
      idx = i;
      cur = last;
    }
  }
  let start: IP | undefined = cur ? undefined : set[0].rangeStart;
  const total = set.reduce((n, r) => n + (r.rangeEnd.n - r.rangeStart.n + 1n), 0n);
  for (let step = 0n; step <= total; step++) {
    let r = set[idx];
    if (!cur) {
      cur = r.rangeStart;
      start = cur;
    } else if (ipEqual(cur, r.rangeEnd)) {
      idx = (idx + 1) % set.length;
      r = set[idx];
      cur = r.rangeStart;
      if (!start) start = cur;
      else if (ipEqual(cur, start)) return;
    } else {
      cur = nextIP(cur);
      if (!start) start = cur;
      else if (ipEqual(cur, start)) return;
    }
    if (ipEqual(cur, r.gateway)) continue;
    yield { ip: cur, range: r };
  }
}
