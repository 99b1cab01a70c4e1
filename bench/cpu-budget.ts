// Per-component CPU accounting for the pod benchmarks, from the kernel's own counters rather than a
// sampled profile, so the figures do not depend on how loaded the machine is: each long-running
// process is moved (with its descendants) into its own cpuacct cgroup under hawser-bench/, and every
// process it spawns later (shims, runc, CNI plugins, ip, nsenter, flock...) is charged there too,
// also after it exits. Inside a cgroup, /proc/<pid>/stat tells the process's own time (utime+stime)
// from what its reaped children used (cutime+cstime), which splits containerd from the CNI plugins it
// execs and a shim from the runc processes it runs.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CPUACCT = '/sys/fs/cgroup/cpuacct';
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts clock ticks of 1/100 s

export interface Cpu {
  user: number;
  sys: number;
}
export const cpuZero = (): Cpu => ({ user: 0, sys: 0 });
export const cpuAdd = (a: Cpu, b: Cpu): Cpu => ({ user: a.user + b.user, sys: a.sys + b.sys });
export const cpuSub = (a: Cpu, b: Cpu): Cpu => ({ user: a.user - b.user, sys: a.sys - b.sys });
export const cpuTotal = (c: Cpu) => c.user + c.sys;

interface ProcStat {
  ppid: number;
  comm: string;
  self: Cpu;
  children: Cpu;
}

/** utime/stime and cutime/cstime of one process, in seconds; undefined once it is gone. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const n = (i: number) => Number(f[i]) / TICK;
    return { ppid: Number(f[1]), comm, self: { user: n(11), sys: n(12) }, children: { user: n(13), sys: n(14) } };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** pid and every live descendant of it. */
export function withDescendants(pid: number): number[] {
  const kids = new Map<number, number[]>();
  for (const p of allPids()) {
    const s = procStat(p);
    if (s) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), p]);
  }
  const out: number[] = [];
  const todo = [pid];
  while (todo.length && out.length < 10_000) {
    const p = todo.pop()!;
    out.push(p);
    todo.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** A cpuacct cgroup's usage in seconds (user, system), or zero when it does not exist. */
export function cgroupCpu(path: string): Cpu {
  const dir = join(CPUACCT, path);
  if (!existsSync(dir)) return cpuZero();
  const read = (f: string) => Number(readFileSync(join(dir, f), 'utf8').trim()) / 1e9;
  return { user: read('cpuacct.usage_user'), sys: read('cpuacct.usage_sys') };
}

/** Children's time: the per-pod cgroups under a cgroup root that the kubelet or a sandbox names. */
export const podsCpu = (cgroupRoot: string) => cgroupCpu(cgroupRoot);

/** Busy CPU seconds of the whole machine (everyone's, other benches and helpers included). */
export function machineCpu(): Cpu {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((x) => Number(x) / TICK);
  // user nice system idle iowait irq softirq steal
  return { user: f[0] + f[1], sys: f[2] + f[5] + f[6] };
}

/** One cpuacct cgroup per long-running process, under hawser-bench/<group>/. */
export class CpuGroups {
  private readonly root: string;
  readonly members = new Map<string, number>();

  constructor(group: string) {
    this.root = `hawser-bench/${group}`;
  }

  /** Move pid and its live descendants into <root>/<id>; what they spawn from now on is charged there. */
  enroll(id: string, pid: number | undefined): void {
    if (!pid) return;
    const dir = join(CPUACCT, this.root, id);
    mkdirSync(dir, { recursive: true });
    for (const p of withDescendants(pid)) {
      try {
        writeFileSync(join(dir, 'cgroup.procs'), `${p}\n`);
      } catch {
        /* exited meanwhile */
      }
    }
    this.members.set(id, pid);
  }

  cpu(id: string): Cpu {
    return cgroupCpu(`${this.root}/${id}`);
  }

  /** Every task back to the root cgroup, then the directories removed (bounded retries). */
  release(): void {
    const base = join(CPUACCT, this.root);
    if (!existsSync(base)) return;
    for (const id of readdirSync(base, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)) {
      const dir = join(base, id);
      for (let i = 0; i < 5; i++) {
        const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
        for (const p of pids) {
          try {
            writeFileSync(join(CPUACCT, 'cgroup.procs'), `${p}\n`);
          } catch {
            /* gone */
          }
        }
        try {
          rmdirSync(dir);
          break;
        } catch {
          /* a task was still leaving: try again */
        }
      }
    }
    try {
      rmdirSync(base);
      rmdirSync(join(CPUACCT, 'hawser-bench'));
    } catch {
      /* another group still there, or already gone */
    }
  }
}

/** Live processes in a cgroup whose command is `comm` (e.g. the shims under containerd's group). */
export function pidsIn(groupPath: string, comm: RegExp): number[] {
  try {
    const tasks = readFileSync(join(CPUACCT, groupPath, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return tasks.filter((p) => comm.test(procStat(p)?.comm ?? ''));
  } catch {
    return [];
  }
}

export interface BudgetRow {
  what: string;
  cpu: Cpu;
}

/** The table: seconds and seconds per pod, user and system, with a total line. */
export function budgetTable(title: string, rows: BudgetRow[], pods: number): string[] {
  const f = (s: number) => s.toFixed(3).padStart(8);
  const out = [
    `  ${title}  (CPU seconds; per pod = / ${pods})`,
    `    ${'component'.padEnd(58)} ${'user'.padStart(8)} ${'system'.padStart(8)} ${'total'.padStart(8)} ${'per pod'.padStart(8)}`,
  ];
  let sum = cpuZero();
  for (const r of rows) {
    sum = cpuAdd(sum, r.cpu);
    out.push(`    ${r.what.padEnd(58)} ${f(r.cpu.user)} ${f(r.cpu.sys)} ${f(cpuTotal(r.cpu))} ${f(cpuTotal(r.cpu) / pods)}`);
  }
  out.push(`    ${'total'.padEnd(58)} ${f(sum.user)} ${f(sum.sys)} ${f(cpuTotal(sum))} ${f(cpuTotal(sum) / pods)}`);
  return out;
}

/** Sampled counters by name; two samples give the deltas the tables show. */
export type Sample = Record<string, Cpu>;
export const delta = (before: Sample, after: Sample) => (k: string) => cpuSub(after[k] ?? cpuZero(), before[k] ?? cpuZero());
export const sumOf = (d: (k: string) => Cpu, keys: string[]) => keys.reduce((s, k) => cpuAdd(s, d(k)), cpuZero());
export const clientCpu = (): Cpu => ({ user: process.cpuUsage().user / 1e6, sys: process.cpuUsage().system / 1e6 });

/**
 * One containerd's counters under `tag`: its cgroup (itself, what it execs, its shims and their runc
 * runs), its own time, its reaped children's (the CNI plugins it execs, each shim's `start` step), and
 * each live shim's own and reaped children's time (runc create/start/state).
 */
export function containerdSample(tag: string, groupPath: string, pid: number | undefined): Sample {
  const ctd = pid ? procStat(pid) : undefined;
  const out: Sample = { [`${tag}:group`]: cgroupCpu(groupPath), [`${tag}:self`]: ctd?.self ?? cpuZero(), [`${tag}:kids`]: ctd?.children ?? cpuZero() };
  for (const p of pidsIn(groupPath, /^containerd-shim/)) {
    const s = procStat(p);
    if (s) Object.assign(out, { [`${tag}:shim${p}:self`]: s.self, [`${tag}:shim${p}:kids`]: s.children });
  }
  return out;
}

/** containerd's rows over every tag (node) in the samples; shims that exited count with the shims. */
export function containerdRows(d: (k: string) => Cpu, after: Sample, tags: string[], childrenLabel: string): BudgetRow[] {
  const keys = (suffix: string) => tags.map((t) => `${t}:${suffix}`);
  const runc = sumOf(
    d,
    Object.keys(after).filter((k) => tags.some((t) => k.startsWith(`${t}:shim`)) && k.endsWith(':kids')),
  );
  const self = sumOf(d, keys('self'));
  const kids = sumOf(d, keys('kids'));
  const shimsAndRunc = cpuSub(cpuSub(sumOf(d, keys('group')), self), kids);
  return [
    { what: 'containerd', cpu: self },
    { what: childrenLabel, cpu: kids },
    { what: 'containerd-shim-runc-v2', cpu: cpuSub(shimsAndRunc, runc) },
    { what: 'runc (run by the shims)', cpu: runc },
  ];
}

/** make bench-pods' target for an idle kubelet: under 0.5% of one core per 10 pods (issue #20). */
export const IDLE_KUBELET_TARGET = 0.5;

export interface IdleKubelet {
  node: string;
  pods: number;
  cpuSeconds: number;
  windowSeconds: number;
  percentPer10Pods: number;
}

/** A kubelet's CPU over an idle window as % of one core per 10 of its pods: cpu-s / window-s * 100 * 10 / pods (Infinity with no pods). */
export function idleKubelet(node: string, cpu: Cpu, windowSeconds: number, pods: number): IdleKubelet {
  const cpuSeconds = cpuTotal(cpu);
  const percentPer10Pods = pods > 0 && windowSeconds > 0 ? ((cpuSeconds / windowSeconds) * 100 * 10) / pods : Infinity;
  return { node, pods, cpuSeconds, windowSeconds, percentPer10Pods };
}

/** Every node's kubelets together: the figure the RESULT line reports. */
export function idleKubeletTotal(rows: IdleKubelet[]): IdleKubelet {
  const window = rows[0]?.windowSeconds ?? 0;
  return idleKubelet(
    'all nodes',
    { user: rows.reduce((s, r) => s + r.cpuSeconds, 0), sys: 0 },
    window,
    rows.reduce((s, r) => s + r.pods, 0),
  );
}

export function idleKubeletTable(rows: IdleKubelet[]): string[] {
  const line = (r: IdleKubelet) =>
    `    ${r.node.padEnd(20)} ${String(r.pods).padStart(5)} pods ${r.cpuSeconds.toFixed(3).padStart(8)} CPU-s ${((100 * r.cpuSeconds) / r.windowSeconds).toFixed(3).padStart(7)}% of a core ${r.percentPer10Pods.toFixed(3).padStart(7)}% per 10 pods`;
  return [
    `  kubelet CPU while its pods are idle (${rows[0]?.windowSeconds ?? 0} s; target under ${IDLE_KUBELET_TARGET}% of a core per 10 pods)`,
    ...rows.map(line),
    line(idleKubeletTotal(rows)),
  ];
}
