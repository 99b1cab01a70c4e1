// IPv4 address ranges of ipBlocks, shared by both renderings: nftables mode writes a block as
// intervals (its cidr with the except ranges cut out); iptables mode, when one pod's rule merges
// several blocks with excepts into one hash:net set, writes their union as the fewest cidrs (one
// block alone keeps its cidr and "nomatch" excepts, which ipset matches most-specific first).
import { formatIP, lastOf, networkOf, parseCIDR } from '../api/ip.ts';

export type Range = [bigint, bigint];

const cidrRange = (c: string): Range | undefined => {
  const p = parseCIDR(c);
  return p && p.ip.v === 4 ? [networkOf(p).n, lastOf(p).n] : undefined;
};

/** An IPv4 cidr without the except cidrs, as sorted disjoint ranges. */
export function blockRanges(cidr: string, except: string[]): Range[] {
  const whole = cidrRange(cidr);
  if (!whole) return [];
  let left: Range[] = [whole];
  for (const e of except) {
    const cut = cidrRange(e);
    if (!cut) continue;
    const [a, b] = cut;
    left = left.flatMap(([s, t]): Range[] =>
      b < s || a > t ? [[s, t]] : [...(a > s ? [[s, a - 1n] as Range] : []), ...(b < t ? [[b + 1n, t] as Range] : [])],
    );
  }
  return left;
}

/** Overlapping or touching ranges joined, sorted. */
export function unionRanges(rs: Range[]): Range[] {
  const out: Range[] = [];
  for (const [s, t] of [...rs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const last = out.at(-1);
    if (!last || s > last[1] + 1n) out.push([s, t]);
    else if (t > last[1]) last[1] = t;
  }
  return out;
}

const v4 = (n: bigint) => formatIP({ v: 4, n });

/** A range as the fewest aligned cidrs, none wider than /1 (ipset hash:net refuses a /0). */
export function rangeCidrs([s, t]: Range): string[] {
  const out: string[] = [];
  let at = s;
  while (at <= t) {
    let bits = 32n;
    // widen while the block stays aligned at `at` and inside the range
    while (bits > 1n && at % (1n << (33n - bits)) === 0n && at + (1n << (33n - bits)) - 1n <= t) bits--;
    out.push(`${v4(at)}/${bits}`);
    at += 1n << (32n - bits);
  }
  return out;
}

export const rangeText = ([s, t]: Range): string => (s === t ? v4(s) : `${v4(s)}-${v4(t)}`);
