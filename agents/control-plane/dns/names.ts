// DNS name helpers shared by the record index and the resolver: normal form (lower case, no
// trailing dot, root = ''), zone membership, reverse-lookup names and dashed-IP labels.
import { isIPv4, isIPv6 } from 'node:net';

/** Names compare case-insensitively (DNS and the Kubernetes DNS spec agree on that). */
export function normalName(name: string): string {
  const n = name.toLowerCase();
  if (n === '.' || n === '') return '';
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

export const isUnder = (name: string, zone: string): boolean => zone === '' || name === zone || name.endsWith(`.${zone}`);

/** Every name from `name` up to and including `zone` (the "exists" set for NODATA vs NXDOMAIN). */
export function selfAndAncestors(name: string, zone: string): string[] {
  const out: string[] = [];
  let n = name;
  for (let i = 0; i < 128 && isUnder(n, zone); i++) {
    out.push(n);
    if (n === zone) break;
    const dot = n.indexOf('.');
    if (dot < 0) break;
    n = n.slice(dot + 1);
  }
  return out;
}

/** The eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
export function ipv6Groups(ip: string): number[] | undefined {
  if (!isIPv6(ip)) return undefined;
  let s = ip.split('%')[0];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (p: string) => (p ? p.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array(fill).fill(0), ...t];
}

/** `d.c.b.a.in-addr.arpa` / nibble `ip6.arpa` for an address; undefined when not an IP. */
export function reverseName(ip: string): string | undefined {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const g = ipv6Groups(ip);
  if (!g) return undefined;
  const nibbles = g.flatMap((x) => x.toString(16).padStart(4, '0').split(''));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

export const isReverseName = (name: string): boolean => name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa');

/** The label form of an address used for pod records and unnamed endpoints: 10-244-1-5, fd00--1. */
export const dashedIP = (ip: string): string => ip.toLowerCase().replace(/[.:]/g, '-');

export const familyOf = (ip: string): 'A' | 'AAAA' | undefined => (isIPv4(ip) ? 'A' : isIPv6(ip) ? 'AAAA' : undefined);
