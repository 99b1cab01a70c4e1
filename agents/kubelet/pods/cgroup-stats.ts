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
  /** page cache (v1 total_cache, v2 file) */
  memoryCacheBytes?: number;
  /** CPU bandwidth control, read only when asked for (cAdvisor's figures: CgroupReader.stats(path, true)) */
  cpuSpec?: CpuSpec;
  cfs?: CfsStats;
}

/** A cgroup's CPU settings as cAdvisor's ContainerSpec.Cpu: quota 0 when unlimited. */
export interface CpuSpec {
  periodUs: number;
  quotaUs: number;
  shares: number;
}

/** CFS bandwidth counters (v1 cpu.stat, v2 cpu.stat). */
export interface CfsStats {
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
}

/** v1 cpu.cfs_quota_us/cpu.cfs_period_us/cpu.shares; -1 (no quota) is 0, as cAdvisor reports it. */
export function v1CpuSpec(files: { 'cpu.cfs_quota_us'?: string; 'cpu.cfs_period_us'?: string; 'cpu.shares'?: string }): CpuSpec | undefined {
  const period = parseSingle(files['cpu.cfs_period_us'] ?? '');
  if (period === undefined) return undefined;
  const quota = Number((files['cpu.cfs_quota_us'] ?? '').trim());
  return { periodUs: period, quotaUs: Number.isFinite(quota) && quota > 0 ? quota : 0, shares: parseSingle(files['cpu.shares'] ?? '') ?? 1024 };
}

/** v2 cpu.max ("max 100000" or "50000 100000") and cpu.weight, converted to shares as cAdvisor does. */
export function v2CpuSpec(files: { 'cpu.max'?: string; 'cpu.weight'?: string }): CpuSpec | undefined {
  const m = /^(max|\d+)\s+(\d+)$/.exec((files['cpu.max'] ?? '').trim());
  if (!m) return undefined;
  const weight = parseSingle(files['cpu.weight'] ?? '') ?? 100;
  return { periodUs: Number(m[2]), quotaUs: m[1] === 'max' ? 0 : Number(m[1]), shares: Math.floor(2 + ((weight - 1) * 262142) / 9999) };
}

/** cpu.stat's throttling counters: v1 nr_periods/nr_throttled/throttled_time (ns), v2 .../throttled_usec. */
export function cfsStats(cpuStat: string | undefined): CfsStats | undefined {
  if (cpuStat === undefined) return undefined;
  const f = parseFlatKeyed(cpuStat);
  if (f.nr_periods === undefined) return undefined;
  const throttledNs = f.throttled_usec !== undefined ? f.throttled_usec * 1000 : (f.throttled_time ?? 0);
  return { periods: f.nr_periods, throttledPeriods: f.nr_throttled ?? 0, throttledNs };
}

/** Stats of one v2 cgroup from its files' contents (missing files as undefined). */
export function v2Stats(files: {
  'memory.current'?: string;
  'memory.stat'?: string;
  'cpu.stat'?: string;
  'memory.events'?: string;
  'memory.max'?: string;
}): CgroupStats {
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
  if (stat.file !== undefined) out.memoryCacheBytes = stat.file;
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
export function v1Stats(files: {
  'cpuacct.usage'?: string;
  'memory.usage_in_bytes'?: string;
  'memory.stat'?: string;
  'memory.limit_in_bytes'?: string;
  'memory.oom_control'?: string;
}): CgroupStats {
  const usage = files['memory.usage_in_bytes'] === undefined ? undefined : parseSingle(files['memory.usage_in_bytes']);
  const stat = parseFlatKeyed(files['memory.stat'] ?? '');
  const out: CgroupStats = { oomKills: parseFlatKeyed(files['memory.oom_control'] ?? '').oom_kill ?? 0 };
  if (usage !== undefined && Number.isFinite(usage)) {
    out.memoryUsageBytes = usage;
    out.memoryWorkingSetBytes = Math.max(0, usage - (stat.total_inactive_file ?? 0));
  }
  if (stat.total_rss !== undefined) out.memoryRssBytes = stat.total_rss;
  if (stat.total_cache !== undefined) out.memoryCacheBytes = stat.total_cache;
  if (stat.total_pgfault !== undefined) out.pageFaults = stat.total_pgfault;
  if (stat.total_pgmajfault !== undefined) out.majorPageFaults = stat.total_pgmajfault;
  const limit = files['memory.limit_in_bytes'] === undefined ? undefined : parseSingle(files['memory.limit_in_bytes']);
  if (limit !== undefined && limit < V1_NO_LIMIT) out.memoryLimitBytes = limit;
  const cpu = files['cpuacct.usage'] === undefined ? undefined : parseSingle(files['cpuacct.usage']);
  if (cpu !== undefined && Number.isFinite(cpu)) out.cpuUsageCoreNanoSeconds = cpu;
  return out;
}

export interface Pressure {
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

/** A PSI file (cpu.pressure, memory.pressure): its "some" and "full" lines. */
export function parsePressure(text: string): { some?: Pressure; full?: Pressure } {
  const out: { some?: Pressure; full?: Pressure } = {};
  for (const line of text.split('\n')) {
    const m = /^(some|full)\s+avg10=([\d.]+)\s+avg60=([\d.]+)\s+avg300=([\d.]+)\s+total=(\d+)$/.exec(line.trim());
    if (m) out[m[1] as 'some' | 'full'] = { avg10: Number(m[2]), avg60: Number(m[3]), avg300: Number(m[4]), total: Number(m[5]) };
  }
  return out;
}
