// Parsing of the kubelet's resource and time flags, with upstream's syntax: reservations as
// "cpu=100m,memory=256Mi,ephemeral-storage=1Gi", durations as Go writes them ("2m", "1h30m",
// "500ms", "0s"). Pure.
import { bytes, milliCPU } from '../api/quantity.ts';

export interface Reserved {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

export function parseReserved(...specs: (string | Record<string, string> | undefined)[]): Reserved {
  const out: Reserved = { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 };
  for (const spec of specs) {
    const pairs =
      typeof spec === 'string'
        ? spec
            .split(',')
            .map((p) => p.trim())
            .filter(Boolean)
            .map((p) => p.split('=') as [string, string])
        : Object.entries(spec ?? {});
    for (const [k, v] of pairs) {
      if (v === undefined) throw new Error(`bad reservation "${k}": want resource=quantity`);
      if (k === 'cpu') out.cpuMillis += milliCPU(v) ?? NaN;
      else if (k === 'memory') out.memoryBytes += bytes(v) ?? NaN;
      else if (k === 'ephemeral-storage') out.ephemeralStorageBytes += bytes(v) ?? NaN;
      else if (k !== 'pid') throw new Error(`unknown reserved resource "${k}"`);
      if (Number.isNaN(out.cpuMillis + out.memoryBytes + out.ephemeralStorageBytes)) throw new Error(`bad quantity in "${k}=${v}"`);
    }
  }
  return out;
}

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration in milliseconds. */
export function parseDuration(s: string | number): number {
  if (typeof s === 'number') return s;
  const text = s.trim();
  if (text === '0') return 0;
  let total = 0;
  let rest = text;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) throw new Error(`bad duration "${s}": want e.g. 2m, 90s, 500ms`);
    total += Number(m[1]) * UNITS[m[2]];
    rest = rest.slice(m[0].length);
  }
  return total;
}

export function parsePercent(name: string, v: unknown, dflt: number): number {
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`--${name} must be a percentage 0-100, got "${String(v)}"`);
  return n;
}
