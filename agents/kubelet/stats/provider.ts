// Builds /stats/summary for the node: containers' CPU, memory and writable layer from the runtime
// (CRI ListContainerStats; a container the runtime gives no CPU or memory for is read from its
// cgroup), pods' totals from their pod cgroups, the node's from the root cgroup (or /proc), network
// from each pod's network namespace, filesystems by statfs and a bounded du. usageNanoCores comes
// from the previous reading of the same counter (cpu-rate.ts); scrapes run one at a time so that
// each sees the rates of the one before.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { CriClient } from '../cri/client.ts';
import type { Container__Output as Container, ContainerStats__Output as CriContainerStats, PodSandbox__Output as PodSandbox } from '../cri/api-types.ts';
import type { CgroupStats } from '../pods/cgroup-stats.ts';
import { cgroupPath, podComponents, podComponentsAnyQos, type CgroupDriver } from '../pods/cgroup-plan.ts';
import { pluginOf, volumeDir } from '../volumes/paths.ts';
import type { CadvisorSnapshot, CgroupSample } from './cadvisor-metrics.ts';
import { CgroupReader } from './cgroup-reader.ts';
import { CpuRates } from './cpu-rate.ts';
import { fsOf, treeFs } from './disk-usage.ts';
import { mountDevice, parseMeminfo, parseNetDev, parseProcStatCpu } from './proc.ts';
import type { ContainerStats, CPUStats, FsStats, MemoryStats, NetworkStats, NodeStats, PodStats, Summary, VolumeStats } from './types.ts';

export type StatsCri = Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'listContainerStats' | 'imageFsInfo'>;

export interface StatsOptions {
  nodeName: string;
  cri: StatsCri;
  cgroupRoot: string;
  cgroupDriver: CgroupDriver;
  rootDir: string;
  podLogDir: string;
  pods(): V1Pod[];
  reader?: CgroupReader;
  procRoot?: string;
  machineIdFile?: string;
  systemUuidFile?: string;
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
/** Times keep milliseconds here (the /metrics/resource timestamps); summaryJson writes whole seconds as metav1.Time does. */
const iso = (ns: number) => new Date(Math.floor(ns / 1e6)).toISOString();
const nowNs = () => Date.now() * 1e6;
const u64 = (v: { value: number } | null | undefined) => (v ? Number(v.value) : undefined);

/** The default interface's figures inline (eth0 when there is one, as upstream), every one listed. */
export function networkStats(netDev: string | undefined, time: string): NetworkStats | undefined {
  if (netDev === undefined) return undefined;
  const interfaces = parseNetDev(netDev);
  const main = interfaces.find((i) => i.name === 'eth0') ?? interfaces[0];
  return main ? { time, ...main, interfaces } : undefined;
}

export function memoryStats(s: CgroupStats, time: string, capacity?: number): MemoryStats | undefined {
  if (s.memoryWorkingSetBytes === undefined) return undefined;
  const limit = s.memoryLimitBytes ?? capacity;
  return {
    time,
    ...(limit !== undefined ? { availableBytes: Math.max(0, limit - s.memoryWorkingSetBytes) } : {}),
    usageBytes: s.memoryUsageBytes,
    workingSetBytes: s.memoryWorkingSetBytes,
    rssBytes: s.memoryRssBytes,
    pageFaults: s.pageFaults,
    majorPageFaults: s.majorPageFaults,
  };
}

const sumFs = (time: string, base: FsStats | undefined, parts: (FsStats | undefined)[]): FsStats => ({
  ...(base ?? { time }),
  time,
  usedBytes: parts.reduce((a, p) => a + (p?.usedBytes ?? 0), 0),
  inodesUsed: parts.reduce((a, p) => a + (p?.inodesUsed ?? 0), 0),
});

/** What one pass reads once and every part of it shares. */
interface Pass {
  now: number;
  only: boolean;
  imageFs?: FsStats;
  /** cAdvisor's view, when asked for */
  sink?: CgroupSample[];
  /** the device and size of the filesystem writable layers live on (cAdvisor's container_fs_*) */
  writableLayerFs?: { device: string; limitBytes?: number };
}

const NO_LABELS = { container: '', image: '', name: '', namespace: '', pod: '' };

export class StatsProvider {
  private rates = new CpuRates();
  private reader: CgroupReader;
  private procRoot: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private o: StatsOptions) {
    this.reader = o.reader ?? new CgroupReader();
    this.procRoot = o.procRoot ?? '/proc';
  }

  /** The summary (CPU and memory only for `onlyCpuAndMemory`, as /metrics/resource and upstream's ?only_cpu_and_memory=true). */
  summary(onlyCpuAndMemory = false): Promise<Summary> {
    return this.serial(() => this.build(onlyCpuAndMemory));
  }

  /**
   * /metrics/cadvisor's cgroups: the same pass as a CPU-and-memory summary (the same runtime
   * lists, the same cgroup reads, with the CPU bandwidth files added), collected per cgroup.
   */
  cadvisor(): Promise<CadvisorSnapshot> {
    return this.serial(async () => {
      const cgroups: CgroupSample[] = [];
      await this.build(true, cgroups);
      return { machine: this.machine(), cgroups };
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private machine(): CadvisorSnapshot['machine'] {
    const meminfo = parseMeminfo(read(join(this.procRoot, 'meminfo')) ?? '');
    return {
      cores: cpus().length,
      memoryBytes: meminfo.MemTotal ?? 0,
      atMs: Date.now(),
      bootId: (read(join(this.procRoot, 'sys/kernel/random/boot_id')) ?? '').trim(),
      machineId: (read(this.o.machineIdFile ?? '/etc/machine-id') ?? '').trim(),
      systemUuid: (read(this.o.systemUuidFile ?? '/sys/class/dmi/id/product_uuid') ?? '').trim(),
    };
  }

  private cpu(key: string, usage: number | undefined, atNs: number): CPUStats | undefined {
    if (usage === undefined) return undefined;
    const rate = this.rates.rate(key, { usageCoreNanoSeconds: usage, atNs });
    return { time: iso(atNs), ...(rate !== undefined ? { usageNanoCores: rate } : {}), usageCoreNanoSeconds: usage };
  }

  /** `sink` (cAdvisor's view) gets every cgroup read, with its CPU bandwidth files, the pods' network and the writable layers. */
  private async build(only: boolean, sink?: CgroupSample[]): Promise<Summary> {
    const [sandboxes, containers, criStats] = await Promise.all([
      this.o.cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } }),
      this.o.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' } }),
      this.o.cri.listContainerStats(),
    ]);
    const now = nowNs();
    const image = only && !sink ? undefined : await this.imageFs(iso(now));
    const pass: Pass = {
      now,
      only,
      sink,
      imageFs: image?.fs,
      writableLayerFs:
        sink && image
          ? { device: mountDevice(read(join(this.procRoot, 'self/mountinfo')) ?? '', image.mountpoint), limitBytes: image.fs.capacityBytes }
          : undefined,
    };
    const node = this.node(pass);
    const statsById = new Map(criStats.map((s) => [s.attributes?.id ?? '', s]));
    const podObjects = new Map(this.o.pods().map((p) => [p.metadata?.uid ?? '', p]));
    const pods = latestSandboxes(sandboxes).map((sb) =>
      this.pod(
        sb,
        containers.filter((c) => c.podSandboxId === sb.id),
        statsById,
        podObjects.get(sb.metadata?.uid ?? ''),
        pass,
      ),
    );
    this.rates.sweep();
    return { node, pods };
  }

  private async imageFs(time: string): Promise<{ fs: FsStats; mountpoint: string } | undefined> {
    const info = await this.o.cri.imageFsInfo().catch(() => undefined);
    const f = info?.imageFilesystems[0];
    if (!f) return undefined;
    const mountpoint = f.fsId?.mountpoint ?? '';
    return { fs: { ...(fsOf(mountpoint, time) ?? { time }), usedBytes: u64(f.usedBytes), inodesUsed: u64(f.inodesUsed) }, mountpoint };
  }

  private node({ now, only, imageFs, sink }: Pass): NodeStats {
    const time = iso(now);
    const root = this.reader.stats('/', !!sink);
    const meminfo = parseMeminfo(read(join(this.procRoot, 'meminfo')) ?? '');
    const total = meminfo.MemTotal;
    // the v2 root cgroup has no memory.current: cAdvisor then reads /proc/meminfo
    const mem: CgroupStats =
      root?.memoryWorkingSetBytes !== undefined
        ? root
        : (() => {
            const usage = (meminfo.MemTotal ?? 0) - (meminfo.MemFree ?? 0);
            return {
              oomKills: 0,
              memoryUsageBytes: usage,
              memoryWorkingSetBytes: Math.max(0, usage - (meminfo['Inactive(file)'] ?? 0)),
              memoryRssBytes: root?.memoryRssBytes,
            };
          })();
    const procStat = read(join(this.procRoot, 'stat')) ?? '';
    const cpuNs = root?.cpuUsageCoreNanoSeconds ?? parseProcStatCpu(procStat);
    const btime = Number(/^btime\s+(\d+)$/m.exec(procStat)?.[1] ?? 0);
    const out: NodeStats = {
      nodeName: this.o.nodeName,
      startTime: iso(btime * 1e9),
      cpu: this.cpu('node', cpuNs, now),
      memory: memoryStats({ ...mem, memoryLimitBytes: undefined }, time, total),
    };
    const netDev = only && !sink ? undefined : read(join(this.procRoot, 'self/net/dev'));
    sink?.push({
      ...NO_LABELS,
      id: '/',
      atMs: Math.round(now / 1e6),
      startSeconds: btime,
      stats: { ...(root ?? {}), ...mem },
      network: netDev === undefined ? undefined : parseNetDev(netDev),
    });
    if (only) return out;
    const network = networkStats(netDev, time);
    if (network) out.network = network;
    const fs = fsOf(this.o.rootDir, time);
    if (fs) out.fs = fs;
    out.runtime = { ...(imageFs ? { imageFs, containerFs: imageFs } : {}) };
    return out;
  }

  private podCgroup(uid: string, pod: V1Pod | undefined): string | undefined {
    if (pod) {
      const path = cgroupPath(podComponents(this.o.cgroupRoot, pod), this.o.cgroupDriver);
      if (this.reader.exists(path)) return path;
    }
    return podComponentsAnyQos(this.o.cgroupRoot, uid)
      .map((n) => cgroupPath(n, this.o.cgroupDriver))
      .find((p) => this.reader.exists(p));
  }

  /** A container's own cgroup under its pod's, as containerd names it for each driver. */
  private containerCgroup(podPath: string | undefined, id: string): string | undefined {
    if (!podPath) return undefined;
    return [join(podPath, id), join(podPath, `cri-containerd-${id}.scope`)].find((p) => this.reader.exists(p));
  }

  private container(
    c: Container,
    s: CriContainerStats | undefined,
    podPath: string | undefined,
    logDir: string,
    labels: Omit<CgroupSample, 'id' | 'atMs' | 'stats'>,
    pass: Pass,
  ): ContainerStats {
    const { now, only, sink } = pass;
    const out: ContainerStats = { name: c.metadata?.name ?? '', startTime: iso(c.createdAt) };
    let cpuNs = u64(s?.cpu?.usageCoreNanoSeconds);
    let cpuAt = s?.cpu?.timestamp || now;
    let memory: MemoryStats | undefined = s?.memory?.workingSetBytes
      ? {
          time: iso(s.memory.timestamp || now),
          availableBytes: u64(s.memory.availableBytes),
          usageBytes: u64(s.memory.usageBytes),
          workingSetBytes: u64(s.memory.workingSetBytes),
          rssBytes: u64(s.memory.rssBytes),
          pageFaults: u64(s.memory.pageFaults),
          majorPageFaults: u64(s.memory.majorPageFaults),
        }
      : undefined;
    const layer = s?.writableLayer;
    if (cpuNs === undefined || !memory || sink) {
      const path = this.containerCgroup(podPath, c.id);
      const cg = path ? this.reader.stats(path, !!sink) : undefined;
      if (cg && cpuNs === undefined) {
        cpuNs = cg.cpuUsageCoreNanoSeconds;
        cpuAt = now;
      }
      if (cg && !memory) memory = memoryStats(cg, iso(now));
      const fs = pass.writableLayerFs && layer?.usedBytes ? [{ ...pass.writableLayerFs, usageBytes: Number(layer.usedBytes.value) }] : undefined;
      if (cg && path) sink?.push({ ...labels, id: path, atMs: Math.round(now / 1e6), startSeconds: Math.floor(c.createdAt / 1e9), stats: cg, fs });
    }
    const cpu = this.cpu(`c:${c.id}`, cpuNs, cpuAt);
    if (cpu) out.cpu = cpu;
    if (memory) out.memory = memory;
    if (only) return out;
    const time = iso(now);
    out.rootfs = { ...(pass.imageFs ?? { time }), time, usedBytes: u64(layer?.usedBytes) ?? 0, inodesUsed: u64(layer?.inodesUsed) ?? 0 };
    out.logs = treeFs(join(logDir, out.name), time);
    return out;
  }

  private pod(sb: PodSandbox, containers: Container[], stats: Map<string, CriContainerStats>, pod: V1Pod | undefined, pass: Pass): PodStats {
    const { now, only, sink } = pass;
    const uid = sb.metadata?.uid ?? '';
    const name = sb.metadata?.name ?? '';
    const namespace = sb.metadata?.namespace ?? '';
    const time = iso(now);
    const podPath = this.podCgroup(uid, pod);
    const logDir = join(this.o.podLogDir, `${namespace}_${name}_${uid}`);
    const specImages = new Map((pod?.spec?.containers ?? []).map((c) => [c.name, c.image ?? '']));
    const labelsOf = (c: Container) => {
      const container = c.metadata?.name ?? '';
      // the runtime may answer with the image id; cAdvisor shows the image's name
      const image = c.image?.image && !c.image.image.startsWith('sha256:') ? c.image.image : (specImages.get(container) ?? c.image?.image ?? '');
      return { container, image, name: c.id, namespace, pod: name };
    };
    const cs = containers.map((c) => this.container(c, stats.get(c.id), podPath, logDir, labelsOf(c), pass)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const out: PodStats = { podRef: { name, namespace, uid }, startTime: iso(sb.createdAt), containers: cs };
    const cg = podPath ? this.reader.stats(podPath, !!sink) : undefined;
    const cpu = this.cpu(`p:${uid}`, cg?.cpuUsageCoreNanoSeconds ?? sumOf(cs.map((c) => c.cpu?.usageCoreNanoSeconds)), now);
    if (cpu) out.cpu = cpu;
    const memory = cg ? memoryStats(cg, time) : sumMemory(cs, time);
    if (memory) out.memory = memory;
    if (only && !sink) return out;
    const pids = podPath ? this.reader.pids(podPath) : [];
    const netDev = pids.length ? read(join(this.procRoot, String(pids[0]), 'net/dev')) : undefined;
    if (cg && podPath)
      sink?.push({
        ...NO_LABELS,
        namespace,
        pod: name,
        id: podPath,
        atMs: Math.round(now / 1e6),
        startSeconds: Math.floor(sb.createdAt / 1e9),
        stats: cg,
        network: netDev === undefined ? undefined : parseNetDev(netDev),
      });
    if (only) return out;
    const network = networkStats(netDev, time);
    if (network) out.network = network;
    const volumes = this.volumes(uid, pod, time);
    if (volumes.length) out.volume = volumes;
    const nodeFs = fsOf(this.o.rootDir, time);
    const scratch = volumes.filter((v) => pod?.spec?.volumes?.some((pv) => pv.name === v.name && pv.emptyDir && pv.emptyDir.medium !== 'Memory'));
    out['ephemeral-storage'] = sumFs(time, nodeFs, [...cs.flatMap((c) => [c.rootfs, c.logs]), ...scratch]);
    out.process_stats = { process_count: pids.length };
    return out;
  }

  private volumes(uid: string, pod: V1Pod | undefined, time: string): VolumeStats[] {
    const out: VolumeStats[] = [];
    for (const v of pod?.spec?.volumes ?? []) {
      const plugin = pluginOf(v);
      if (!plugin || plugin === 'host-path') continue;
      const dir = volumeDir(this.o.rootDir, uid, plugin, v.name);
      if (!existsDir(dir)) continue;
      out.push({ ...treeFs(dir, time), name: v.name });
    }
    return out;
  }
}

function existsDir(dir: string): boolean {
  try {
    readdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function sumOf(values: (number | undefined)[]): number | undefined {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? known.reduce((a, b) => a + b, 0) : undefined;
}

function sumMemory(cs: ContainerStats[], time: string): MemoryStats | undefined {
  const ws = sumOf(cs.map((c) => c.memory?.workingSetBytes));
  if (ws === undefined) return undefined;
  return { time, workingSetBytes: ws, usageBytes: sumOf(cs.map((c) => c.memory?.usageBytes)), rssBytes: sumOf(cs.map((c) => c.memory?.rssBytes)) };
}

/** The newest ready sandbox of each pod uid (a pod being recreated may briefly have two). */
export function latestSandboxes(sandboxes: PodSandbox[]): PodSandbox[] {
  const byUid = new Map<string, PodSandbox>();
  for (const s of sandboxes) {
    const uid = s.metadata?.uid ?? s.id;
    const prev = byUid.get(uid);
    if (!prev || s.createdAt > prev.createdAt) byUid.set(uid, s);
  }
  return [...byUid.values()];
}

/** The summary as the kubelet sends it: times in RFC 3339 with whole seconds, as metav1.Time marshals. */
export const summaryJson = (s: Summary): string =>
  JSON.stringify(s, (k, v: unknown) => ((k === 'time' || k === 'startTime') && typeof v === 'string' ? v.replace(/\.\d+Z$/, 'Z') : v));
