// Parsers of the /proc files behind the node's and pods' stats: /proc/net/dev (per-interface
// bytes and errors), /proc/stat (the node's CPU time, when no root cgroup gives it) and
// /proc/meminfo. Pure.
import type { InterfaceStats } from './types.ts';

/** Every interface of a /proc/<pid>/net/dev text but loopback. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({ name: m[1]!, rxBytes: f[0], rxErrors: f[2], txBytes: f[8], txErrors: f[10] });
  }
  return out;
}

/** USER_HZ: /proc/stat counts in hundredths of a second on every Linux architecture we run on. */
const USER_HZ = 100;

/** The node's busy CPU time in nanoseconds from /proc/stat's "cpu" line (all but idle and iowait). */
export function parseProcStatCpu(text: string): number | undefined {
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m) return undefined;
  const f = m[1]!.trim().split(/\s+/).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = f.slice(0, 8).reduce((a, n, i) => (i === 3 || i === 4 ? a : a + n), 0);
  return (busy * 1e9) / USER_HZ;
}

/** /proc/meminfo as bytes by key ("MemTotal", "MemAvailable", "Inactive(file)"...). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** The source device of the mount holding `path` (the longest mount point above it) from a /proc/<pid>/mountinfo text; "" when none. */
export function mountDevice(mountinfo: string, path: string): string {
  let best = { point: '', device: '' };
  for (const line of mountinfo.split('\n')) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const f = line.split(' ');
    const dash = f.indexOf('-');
    const point = f[4];
    if (dash < 0 || point === undefined) continue;
    const under = point === '/' || path === point || path.startsWith(`${point}/`);
    if (under && point.length >= best.point.length) best = { point, device: f[dash + 2] ?? '' };
  }
  return best.device;
}
