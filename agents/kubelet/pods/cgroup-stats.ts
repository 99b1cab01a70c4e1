// Parsers of the cgroup files the kubelet reads for stats and OOM kills: single values
// (memory.current, memory.max: a number or "max"), flat keyed files (memory.stat, cpu.stat,
// memory.events: "key value" lines) and pressure (PSI) files; v2Stats and v1Stats turn one
// cgroup's files into the same figures. Pure.

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

export interface CgroupStats {
  memoryUsageBytes?: number;
  /** usage less inactive file pages: what the eviction manager and `kubectl top` call the working set */
  memoryWorkingSetBytes?: number;
  memoryRssBytes?: number;
  cpuUsageCoreNanoSeconds?: number;
  pageFaults?: number;
  majorPageFaults?: number;
  /** the memory limit, when there is one */
  memoryLimitBytes?: number;
  oomKills: number;
}

/** Stats of one v2 cgroup from its files' contents (missing files as undefined). */
export function v2Stats(files: { 'memory.current'?: string; 'memory.stat'?: string; 'cpu.stat'?: string; 'memory.events'?: string; 'memory.max'?: string }): CgroupStats {
  const usage = files['memory.current'] === undefined ? undefined : parseSingle(files['memory.current']);
  const stat = parseFlatKeyed(files['memory.stat'] ?? '');
  const cpu = parseFlatKeyed(files['cpu.stat'] ?? '');
  const events = parseFlatKeyed(files['memory.events'] ?? '');
  const out: CgroupStats = { oomKills: events.oom_kill ?? 0 };
  if (usage !== undefined) {
    out.memoryUsageBytes = usage;
    out.memoryWorkingSetBytes = Math.max(0, usage - (stat.inactive_file ?? 0));
  }
  if (stat.anon !== undefined) out.memoryRssBytes = stat.anon;
  if (stat.pgfault !== undefined) out.pageFaults = stat.pgfault;
  if (stat.pgmajfault !== undefined) out.majorPageFaults = stat.pgmajfault;
  const limit = files['memory.max'] === undefined ? undefined : parseSingle(files['memory.max']);
  if (limit !== undefined && Number.isFinite(limit)) out.memoryLimitBytes = limit;
  if (cpu.usage_usec !== undefined) out.cpuUsageCoreNanoSeconds = cpu.usage_usec * 1000;
  return out;
}

/** v1 memory.limit_in_bytes at or above this is "no limit" (the page-rounded int64 max). */
const V1_NO_LIMIT = 2 ** 62;

/**
 * Stats of one v1 cgroup from its cpuacct and memory files, as cAdvisor reads them: the working set
 * is usage less total_inactive_file, rss is total_rss, faults are total_pgfault/total_pgmajfault.
 */
export function v1Stats(files: { 'cpuacct.usage'?: string; 'memory.usage_in_bytes'?: string; 'memory.stat'?: string; 'memory.limit_in_bytes'?: string; 'memory.oom_control'?: string }): CgroupStats {
  const usage = files['memory.usage_in_bytes'] === undefined ? undefined : parseSingle(files['memory.usage_in_bytes']);
  const stat = parseFlatKeyed(files['memory.stat'] ?? '');
  const out: CgroupStats = { oomKills: parseFlatKeyed(files['memory.oom_control'] ?? '').oom_kill ?? 0 };
  if (usage !== undefined && Number.isFinite(usage)) {
    out.memoryUsageBytes = usage;
    out.memoryWorkingSetBytes = Math.max(0, usage - (stat.total_inactive_file ?? 0));
  }
  if (stat.total_rss !== undefined) out.memoryRssBytes = stat.total_rss;
  if (stat.total_pgfault !== undefined) out.pageFaults = stat.total_pgfault;
  if (stat.total_pgmajfault !== undefined) out.majorPageFaults = stat.total_pgmajfault;
  const limit = files['memory.limit_in_bytes'] === undefined ? undefined : parseSingle(files['memory.limit_in_bytes']);
  if (limit !== undefined && limit < V1_NO_LIMIT) out.memoryLimitBytes = limit;
  const cpu = files['cpuacct.usage'] === undefined ? undefined : parseSingle(files['cpuacct.usage']);
  if (cpu !== undefined && Number.isFinite(cpu)) out.cpuUsageCoreNanoSeconds = cpu;
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
