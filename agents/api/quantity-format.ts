// Quantities as upstream's resource.Quantity prints them (String(), the canonical form), shared by
// the API server (it stores canonical quantities) and the kubelet (its eviction messages quote them).
import { parseQuantity } from './quantity.ts';

const DECIMAL: [string, number][] = [
  ['E', 1e18],
  ['P', 1e15],
  ['T', 1e12],
  ['G', 1e9],
  ['M', 1e6],
  ['k', 1e3],
];
const BINARY: [string, number][] = [
  ['Ei', 2 ** 60],
  ['Pi', 2 ** 50],
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** A value as upstream's Quantity prints it: the largest exact suffix, millis when fractional. */
export function formatQuantity(v: number, binary = false): string {
  if (!Number.isInteger(v)) {
    const milli = Math.round(v * 1000);
    return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
  }
  if (v === 0) return '0';
  for (const [s, m] of binary ? BINARY : DECIMAL) if (v % m === 0) return `${v / m}${s}`;
  return String(v);
}

/** "1000000" -> "1M", "2048Ki" -> "2Mi", "0.5" -> "500m"; unparseable values stay as given. */
export function canonicalQuantity(q: unknown): unknown {
  const v = parseQuantity(q);
  if (v === undefined) return q;
  return formatQuantity(v, /[KMGTPE]i$/.test(String(q)));
}
