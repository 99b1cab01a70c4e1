// IPv4/IPv6 addresses and CIDRs as (family, bigint), the one implementation every part uses: parsing
// as strict as Go's net.ParseIP/ParseCIDR (IPv4-mapped IPv6 is IPv4), canonical text (as Go prints
// it), containment, overlap and subnet arithmetic. Pure functions: the API server's validation and
// Service IP allocation, node IPAM, `check-config`, the lab, kube-proxy and the CNI plugins' IPAM.

export interface IP {
  v: 4 | 6;
  n: bigint;
}
export interface CIDR {
  ip: IP; // as written (host bits may be set)
  prefix: number;
}

const bits = (v: 4 | 6): number => (v === 4 ? 32 : 128);

function parseV4(s: string): bigint | null {
  const p = s.split('.');
  if (p.length !== 4) return null;
  let n = 0n;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || (x.length > 1 && x[0] === '0')) return null;
    const b = Number(x);
    if (b > 255) return null;
    n = (n << 8n) | BigInt(b);
  }
  return n;
}

function parseV6(s: string): bigint | null {
  let head = s;
  let v4tail: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    v4tail = parseV4(s.slice(lastColon + 1));
    if (v4tail === null) return null;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = head.split('::');
  if (dbl.length > 2) return null;
  const toGroups = (x: string): string[] | null => (x === '' ? [] : x.split(':'));
  const left = toGroups(dbl[0]);
  const right = dbl.length === 2 ? toGroups(dbl[1]) : [];
  if (!left || !right) return null;
  const total = left.length + right.length;
  if (dbl.length === 1 ? total !== 8 : total > 7) return null;
  const groups = [...left, ...Array(8 - total).fill('0'), ...right];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (v4tail !== null) n = (n & ~0xffffffffn) | v4tail;
  return n;
}

/** Parse an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) is treated as IPv4, as Go does. */
export function parseIP(s: string): IP | null {
  if (typeof s !== 'string') return null;
  if (!s.includes(':')) {
    const n = parseV4(s);
    return n === null ? null : { v: 4, n };
  }
  const n = parseV6(s);
  if (n === null) return null;
  if (n >> 32n === 0xffffn) return { v: 4, n: n & 0xffffffffn };
  return { v: 6, n };
}

export function formatIP(ip: IP): string {
  if (ip.v === 4) return [24n, 16n, 8n, 0n].map((sh) => String((ip.n >> sh) & 255n)).join('.');
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.n >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first on a tie
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function parseCIDR(s: string): CIDR | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const ip = parseIP(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(p)) return null;
  const prefix = Number(p);
  if (prefix > bits(ip.v)) return null;
  return { ip, prefix };
}

export function formatCIDR(c: CIDR): string {
  return `${formatIP(c.ip)}/${c.prefix}`;
}

function maskOf(v: 4 | 6, prefix: number): bigint {
  const b = BigInt(bits(v));
  return ((1n << b) - 1n) ^ ((1n << (b - BigInt(prefix))) - 1n);
}

export function networkOf(c: CIDR): IP {
  return { v: c.ip.v, n: c.ip.n & maskOf(c.ip.v, c.prefix) };
}
export function lastOf(c: CIDR): IP {
  return { v: c.ip.v, n: networkOf(c).n | (maskOf(c.ip.v, c.prefix) ^ ((1n << BigInt(bits(c.ip.v))) - 1n)) };
}
export function contains(c: CIDR, ip: IP): boolean {
  return ip.v === c.ip.v && (ip.n & maskOf(c.ip.v, c.prefix)) === networkOf(c).n;
}
export function ipEqual(a: IP | undefined, b: IP | undefined): boolean {
  return !!a && !!b && a.v === b.v && a.n === b.n;
}
export function cmpIP(a: IP, b: IP): number {
  return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
}
export function nextIP(ip: IP): IP {
  const max = (1n << BigInt(bits(ip.v))) - 1n;
  return { v: ip.v, n: ip.n === max ? 0n : ip.n + 1n };
}
export function prefixBits(v: 4 | 6): number {
  return bits(v);
}
/** The CIDR rewritten to its network address, e.g. 10.0.0.7/24 -> 10.0.0.0/24. */
export function canonicalCIDR(c: CIDR): string {
  return formatCIDR({ ip: networkOf(c), prefix: c.prefix });
}

/** The n-th address of the CIDR counted from its network address. */
export function nthIP(c: CIDR, n: number | bigint): string {
  return formatIP({ v: c.ip.v, n: networkOf(c).n + BigInt(n) });
}

/** How many addresses the CIDR holds. */
export function size(c: CIDR): bigint {
  return 1n << BigInt(bits(c.ip.v) - c.prefix);
}

export function overlaps(a: CIDR, b: CIDR): boolean {
  if (a.ip.v !== b.ip.v) return false;
  return a.prefix <= b.prefix ? contains(a, b.ip) : contains(b, a.ip);
}

/** How many subnets of /maskSize fit in the CIDR (capped at 2^30 to keep the numbers sane). */
export function subnetCount(c: CIDR, maskSize: number): number {
  if (maskSize < c.prefix || maskSize > bits(c.ip.v)) return 0;
  return Number(1n << BigInt(Math.min(maskSize - c.prefix, 30)));
}

/** The n-th /maskSize subnet of the CIDR. */
export function nthSubnet(c: CIDR, maskSize: number, n: number): CIDR {
  return { ip: { v: c.ip.v, n: networkOf(c).n + (BigInt(n) << BigInt(bits(c.ip.v) - maskSize)) }, prefix: maskSize };
}

/** Index of a /maskSize subnet inside c, or undefined when it is not one of them. */
export function subnetIndex(c: CIDR, maskSize: number, sub: CIDR): number | undefined {
  if (sub.ip.v !== c.ip.v || sub.prefix !== maskSize || !contains(c, sub.ip)) return undefined;
  return Number((networkOf(sub).n - networkOf(c).n) >> BigInt(bits(c.ip.v) - maskSize));
}

/** A CIDR, or a bare address as its host route (/32, /128); null when it is neither. */
export function parseCIDROrIP(s: string): CIDR | null {
  if (s.includes('/')) return parseCIDR(s);
  const ip = parseIP(s);
  return ip && { ip, prefix: bits(ip.v) };
}

/** Does the CIDR (or single address) hold the address? False when either does not parse. */
export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCIDROrIP(cidr);
  const a = parseIP(ip);
  return !!c && !!a && contains(c, a);
}

/** Do two CIDRs (or addresses) share an address? False when either does not parse (e.g. "default"). */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCIDROrIP(a);
  const y = parseCIDROrIP(b);
  return !!x && !!y && overlaps(x, y);
}
