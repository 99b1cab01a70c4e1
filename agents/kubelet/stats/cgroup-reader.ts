// Reads one cgroup's CPU and memory figures from the cgroup filesystem, v1 (cpuacct and memory
// hierarchies) or v2 (the unified tree), plus the processes below it: the kubelet's fallback and
// its source for pod and node totals, as cAdvisor reads the same files.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v1Stats, v2Stats, type CgroupStats } from '../pods/cgroup-stats.ts';

const read = (file: string): string | undefined => {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
};

/** Bound on the cgroups walked for one pod's processes (a pod has a handful). */
const MAX_WALK = 256;

export class CgroupReader {
  readonly v2: boolean;

  constructor(private fsRoot = '/sys/fs/cgroup') {
    this.v2 = existsSync(join(fsRoot, 'cgroup.controllers'));
  }

  private dir(controller: 'cpuacct' | 'memory', path: string): string {
    return this.v2 ? join(this.fsRoot, path) : join(this.fsRoot, controller, path);
  }

  exists(path: string): boolean {
    return existsSync(this.dir('memory', path));
  }

  /** The cgroup's figures; undefined when it does not exist. */
  stats(path: string): CgroupStats | undefined {
    if (!this.exists(path)) return undefined;
    if (this.v2) {
      const d = this.dir('memory', path);
      return v2Stats({
        'cpu.stat': read(join(d, 'cpu.stat')), 'memory.current': read(join(d, 'memory.current')),
        'memory.stat': read(join(d, 'memory.stat')), 'memory.max': read(join(d, 'memory.max')), 'memory.events': read(join(d, 'memory.events')),
      });
    }
    const m = this.dir('memory', path);
    return v1Stats({
      'cpuacct.usage': read(join(this.dir('cpuacct', path), 'cpuacct.usage')),
      'memory.usage_in_bytes': read(join(m, 'memory.usage_in_bytes')), 'memory.stat': read(join(m, 'memory.stat')),
      'memory.limit_in_bytes': read(join(m, 'memory.limit_in_bytes')), 'memory.oom_control': read(join(m, 'memory.oom_control')),
    });
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
      } catch { /* gone */ }
    }
    return out;
  }
}
