// IPv4/IPv6 address and CIDR arithmetic on bigints (pure): parsing, subnetting, containment.
import { isIPv4, isIPv6 } from 'node:net';

export interface CIDR {
  family: 4 | 6;
  /** network address (host bits cleared) */
  base: bigint;
  prefix: number;
  bits: 32 | 128;
}

export function parseIP(s: string): { family: 4 | 6; value: bigint } | undefined {
  if (isIPv4(s)) {
    const v = s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    return { family: 4, value: v };
  }
  if (isIPv6(s)) {
    let str = s;
    // an embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
    if (v4) {
      const n = parseIP(v4[1])!.value;
      str = str.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
    }
    const [head, tail] = str.includes('::') ? str.split('::') : [str, undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    const v = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
    return { family: 6, value: v };
  }
  return undefined;
}

export function formatIP(value: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // compress the longest run of zero groups
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseCIDR(s: string): CIDR | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = parseIP(m[1]);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  const base = (ip.value >> hostBits) << hostBits;
  return { family: ip.family, base, prefix, bits };
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP(c.base, c.family)}/${c.prefix}`;
}

/** How many subnets of /maskSize fit in the CIDR (capped to keep the numbers sane). */
export function subnetCount(c: CIDR, maskSize: number): number {
  if (maskSize < c.prefix || maskSize > c.bits) return 0;
  return Number(1n << BigInt(Math.min(maskSize - c.prefix, 30)));
}

export function nthSubnet(c: CIDR, maskSize: number, n: number): CIDR {
  const base = c.base + (BigInt(n) << BigInt(c.bits - maskSize));
  return { family: c.family, base, prefix: maskSize, bits: c.bits };
}

/** Index of a /maskSize subnet inside c, or undefined when it is not one of them. */
export function subnetIndex(c: CIDR, maskSize: number, sub: CIDR): number | undefined {
  if (sub.family !== c.family || sub.prefix !== maskSize || !contains(c, sub.base)) return undefined;
  return Number((sub.base - c.base) >> BigInt(c.bits - maskSize));
}

export function contains(c: CIDR, ip: bigint): boolean {
  const hostBits = BigInt(c.bits - c.prefix);
  return ip >> hostBits === c.base >> hostBits;
}

export function overlaps(a: CIDR, b: CIDR): boolean {
  if (a.family !== b.family) return false;
  return a.prefix <= b.prefix ? contains(a, b.base) : contains(b, a.base);
}

export function nthIP(c: CIDR, n: number | bigint): string {
  return formatIP(c.base + BigInt(n), c.family);
}

export function size(c: CIDR): bigint {
  return 1n << BigInt(c.bits - c.prefix);
}
