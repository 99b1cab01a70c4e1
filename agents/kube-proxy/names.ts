// Chain and set names, computed as upstream kube-proxy computes them so that users find the names
// they know: iptables uses a 16-character prefix of base32(sha256(portName + protocol [+ endpoint])),
// nftables a readable name led by an 8-character hash.
import { hash as digest } from 'node:crypto';
import type { ServicePort } from './model.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 with padding dropped: only a prefix is ever used. */
export function base32(buf: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// Names are recomputed for every rendered rule; a full sync at 5,000 Services needs ~100,000 of
// them, so they are remembered (bounded) and only the bytes a prefix needs are encoded.
const memo = new Map<string, string>();
const MEMO_MAX = 400_000;

function hash(s: string, n: number): string {
  const k = `${n}\u0000${s}`;
  let h = memo.get(k);
  if (h === undefined) {
    h = base32(digest('sha256', s, 'buffer').subarray(0, Math.ceil((n * 5) / 8))).slice(0, n);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(k, h);
  }
  return h;
}

const proto = (s: ServicePort): string => s.protocol.toLowerCase();

export interface IptChains {
  svc: string;
  svl: string;
  ext: string;
  fw: string;
}

export function iptablesChains(s: ServicePort): IptChains {
  const h = hash(s.name + proto(s), 16);
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

export const iptablesEndpointChain = (s: ServicePort, endpoint: string): string => `KUBE-SEP-${hash(s.name + proto(s) + endpoint, 16)}`;

export const IPT_SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];
export const isIptablesServiceChain = (c: string): boolean => IPT_SERVICE_CHAIN_PREFIXES.some((p) => c.startsWith(p));

/** nftables: "HASH8-ns/name/proto/port" (and "__ip/port" for endpoints), as upstream's nftables mode. */
export function nftBase(s: ServicePort): string {
  const [ns, name] = s.service.split('/');
  const base = `${ns}/${name}/${proto(s)}/${s.portName}`;
  return `${hash(base, 8)}-${base}`;
}

export function nftEndpointBase(s: ServicePort, ep: { ip: string; port: number }): string {
  const [ns, name] = s.service.split('/');
  const base = `${ns}/${name}/${proto(s)}/${s.portName}__${ep.ip}/${ep.port}`;
  return `${hash(base, 8)}-${base}`;
}
