// Parsers of the cgroup v2 files the kubelet reads for stats and OOM kills: single values
// (memory.current, memory.max: a number or "max"), flat keyed files (memory.stat, cpu.stat,
// memory.events: "key value" lines) and pressure (PSI) files. Pure.

/** A single-value file: its number, or Infinity for "max"; undefined when unreadable. */
export function parseSingle(text: string): number | undefined {
  const t = text.trim();
  if (t === 'max') return Infinity;
  if (!/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** A flat keyed file ("anon 1234\nfile 5678\n") as a record; malformed lines are skipped. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export interface V2Stats {
  memoryUsageBytes?: number;
  /** usage less inactive file pages: what the eviction manager and `kubectl top` call the working set */
  memoryWorkingSetBytes?: number;
  memoryRssBytes?: number;
  cpuUsageCoreNanoSeconds?: number;
  oomKills: number;
}

/** Stats of one v2 cgroup from its files' contents (missing files as undefined). */
export function v2Stats(files: { 'memory.current'?: string; 'memory.stat'?: string; 'cpu.stat'?: string; 'memory.events'?: string }): V2Stats {
  const usage = files['memory.current'] === undefined ? undefined : parseSingle(files['memory.current']);
  const stat = parseFlatKeyed(files['memory.stat'] ?? '');
  const cpu = parseFlatKeyed(files['cpu.stat'] ?? '');
  const events = parseFlatKeyed(files['memory.events'] ?? '');
  const out: V2Stats = { oomKills: events.oom_kill ?? 0 };
  if (usage !== undefined) {
    out.memoryUsageBytes = usage;
    out.memoryWorkingSetBytes = Math.max(0, usage - (stat.inactive_file ?? 0));
  }
  if (stat.anon !== undefined) out.memoryRssBytes = stat.anon;
  if (cpu.usage_usec !== undefined) out.cpuUsageCoreNanoSeconds = cpu.usage_usec * 1000;
  return out;
}

export interface Pressure { avg10: number; avg60: number; avg300: number; total: number }

/** A PSI file (cpu.pressure, memory.pressure): its "some" and "full" lines. */
export function parsePressure(text: string): { some?: Pressure; full?: Pressure } {
  const out: { some?: Pressure; full?: Pressure } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)$/.exec(line.trim());
    if (m) out[m[1] as 'some' | 'full'] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) };
  }
  return out;
}

/** Whether the cgroup saw an OOM kill since a previous reading of memory.events' oom_kill. */
export const oomKilledSince = (previous: number, eventsText: string): boolean => (parseFlatKeyed(eventsText).oom_kill ?? 0) > previous;
