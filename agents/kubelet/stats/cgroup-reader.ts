// Reads one cgroup's CPU and memory figures from the cgroup filesystem, v1 (cpuacct and memory
// hierarchies) or v2 (the unified tree), plus the processes below it: the kubelet's fallback and
// its source for pod and node totals, as cAdvisor reads the same files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cfsStats, v1CpuSpec, v1Stats, v2CpuSpec, v2Stats, type CgroupStats } from '../pods/cgroup-stats.ts';

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/** Bound on the cgroups walked for one pod's processes (a pod has a handful). */
const MAX_WALK = 256;

export class CgroupReader {
  readonly v2: boolean;

  constructor(private fsRoot = '/sys/fs/cgroup') {
    this.v2 = existsSync(join(fsRoot, 'cgroup.controllers'));
  }

  private dir(controller: 'cpu' | 'cpuacct' | 'memory', path: string): string {
    return this.v2 ? join(this.fsRoot, path) : join(this.fsRoot, controller, path);
  }

  exists(path: string): boolean {
    return existsSync(this.dir('memory', path));
  }

  /** The cgroup's figures; undefined when it does not exist. `cpuDetail` adds the CPU bandwidth settings and throttling (/metrics/cadvisor). */
  stats(path: string, cpuDetail = false): CgroupStats | undefined {
    if (!this.exists(path)) return undefined;
    if (this.v2) {
      const d = this.dir('memory', path);
      const cpuStat = read(join(d, 'cpu.stat'));
      const out = v2Stats({
        'cpu.stat': cpuStat,
        'memory.current': read(join(d, 'memory.current')),
        'memory.stat': read(join(d, 'memory.stat')),
        'memory.max': read(join(d, 'memory.max')),
        'memory.events': read(join(d, 'memory.events')),
      });
      return cpuDetail
        ? { ...out, cpuSpec: v2CpuSpec({ 'cpu.max': read(join(d, 'cpu.max')), 'cpu.weight': read(join(d, 'cpu.weight')) }), cfs: cfsStats(cpuStat) }
        : out;
    }
    const m = this.dir('memory', path);
    const out = v1Stats({
      'cpuacct.usage': read(join(this.dir('cpuacct', path), 'cpuacct.usage')),
      'memory.usage_in_bytes': read(join(m, 'memory.usage_in_bytes')),
      'memory.stat': read(join(m, 'memory.stat')),
      'memory.limit_in_bytes': read(join(m, 'memory.limit_in_bytes')),
      'memory.oom_control': read(join(m, 'memory.oom_control')),
    });
    if (!cpuDetail) return out;
    const c = this.dir('cpu', path);
    const spec = v1CpuSpec({
      'cpu.cfs_quota_us': read(join(c, 'cpu.cfs_quota_us')),
      'cpu.cfs_period_us': read(join(c, 'cpu.cfs_period_us')),
      'cpu.shares': read(join(c, 'cpu.shares')),
    });
    return { ...out, cpuSpec: spec, cfs: cfsStats(read(join(c, 'cpu.stat'))) };
  }

  /** Process ids in the cgroup and below it (bounded walk). */
  pids(path: string): number[] {
    const out: number[] = [];
    const stack = [this.dir('memory', path)];
    for (let n = 0; stack.length && n < MAX_WALK; n++) {
      const d = stack.pop()!;
      for (const p of (read(join(d, 'cgroup.procs')) ?? '').split('\n')) if (/^\d+$/.test(p)) out.push(Number(p));
      try {
        for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(d, e.name));
      } catch {
        /* gone */
      }
    }
    return out;
  }
}
