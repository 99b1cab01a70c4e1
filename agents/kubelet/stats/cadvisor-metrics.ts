// /metrics/cadvisor: the per-cgroup container metrics the kubelet's embedded cAdvisor serves, with
// cAdvisor's names, help texts and types (lib/metrics/prometheus.go and prometheus_machine.go) and
// the kubelet's label set (container, id, image, name, namespace, pod: every one present, empty
// when it does not apply), rendered from the cgroup samples the stats provider read in the same pass
// as a summary (provider.ts cadvisor()). Container samples carry the reading's time in milliseconds;
// spec and start-time samples carry none, as upstream. Pure.
import type { CgroupStats } from '../pods/cgroup-stats.ts';
import { family as f, renderFamilies, type Family, type Labels, type Sample } from './exposition.ts';
import type { InterfaceStats } from './types.ts';

/** One cgroup as cAdvisor sees it: the root "/", a pod's cgroup, or a container's. */
export interface CgroupSample {
  /** the cgroup path (cAdvisor's container name): "/", "/kubepods/besteffort/pod<uid>", ".../<container id>" */
  id: string;
  /** the container's name in its pod, "" for the root and pod cgroups */
  container: string;
  image: string;
  /** the runtime's container id (cAdvisor's alias), "" for the root and pod cgroups */
  name: string;
  namespace: string;
  pod: string;
  /** ms since the epoch of the reading */
  atMs: number;
  /** whole seconds since the epoch (cAdvisor writes creation time .Unix()) */
  startSeconds?: number;
  stats: CgroupStats;
  network?: InterfaceStats[];
  /** the writable layer on the image filesystem */
  fs?: { device: string; usageBytes: number; limitBytes?: number }[];
}

export interface MachineSample {
  cores: number;
  memoryBytes: number;
  bootId: string;
  machineId: string;
  systemUuid: string;
  atMs: number;
}

export interface CadvisorSnapshot {
  machine: MachineSample;
  cgroups: CgroupSample[];
}

const seconds = (ns: number) => ns / 1e9;

export function renderCadvisorMetrics(snap: CadvisorSnapshot | undefined): string {
  const fam = {
    cfsPeriods: f('container_cpu_cfs_periods_total', 'counter', 'Number of elapsed enforcement period intervals.'),
    cfsThrottledPeriods: f('container_cpu_cfs_throttled_periods_total', 'counter', 'Number of throttled period intervals.'),
    cfsThrottledSeconds: f('container_cpu_cfs_throttled_seconds_total', 'counter', 'Total time duration the container has been throttled.'),
    cpu: f('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed in seconds.'),
    fsLimit: f('container_fs_limit_bytes', 'gauge', 'Number of bytes that can be consumed by the container on this filesystem.'),
    fsUsage: f('container_fs_usage_bytes', 'gauge', 'Number of bytes that are consumed by the container on this filesystem.'),
    lastSeen: f('container_last_seen', 'gauge', 'Last time a container was seen by the exporter'),
    cache: f('container_memory_cache', 'gauge', 'Number of bytes of page cache memory.'),
    rss: f('container_memory_rss', 'gauge', 'Size of RSS in bytes.'),
    usage: f('container_memory_usage_bytes', 'gauge', 'Current memory usage in bytes, including all memory regardless of when it was accessed'),
    workingSet: f('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.'),
    rx: f('container_network_receive_bytes_total', 'counter', 'Cumulative count of bytes received'),
    rxErrors: f('container_network_receive_errors_total', 'counter', 'Cumulative count of errors encountered while receiving'),
    tx: f('container_network_transmit_bytes_total', 'counter', 'Cumulative count of bytes transmitted'),
    txErrors: f('container_network_transmit_errors_total', 'counter', 'Cumulative count of errors encountered while transmitting'),
    oom: f('container_oom_events_total', 'counter', 'Count of out of memory events observed for the container'),
    scrapeError: f('container_scrape_error', 'gauge', '1 if there was an error while getting container metrics, 0 otherwise'),
    cpuPeriod: f('container_spec_cpu_period', 'gauge', 'CPU period of the container.'),
    cpuQuota: f('container_spec_cpu_quota', 'gauge', 'CPU quota of the container.'),
    cpuShares: f('container_spec_cpu_shares', 'gauge', 'CPU share of the container.'),
    memLimit: f('container_spec_memory_limit_bytes', 'gauge', 'Memory limit for the container.'),
    start: f('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds.'),
    cores: f('machine_cpu_cores', 'gauge', 'Number of logical CPU cores.'),
    memory: f('machine_memory_bytes', 'gauge', 'Amount of memory installed on the machine.'),
    machineError: f('machine_scrape_error', 'gauge', '1 if there was an error while getting machine metrics, 0 otherwise.'),
  } satisfies Record<string, Family>;
  fam.scrapeError.samples.push({ labels: [], value: snap ? 0 : 1 });
  fam.machineError.samples.push({ labels: [], value: snap ? 0 : 1 });
  if (!snap) return renderFamilies(Object.values(fam));
  const m = snap.machine;
  const machineLabels: Labels = [
    ['boot_id', m.bootId],
    ['machine_id', m.machineId],
    ['system_uuid', m.systemUuid],
  ];
  fam.cores.samples.push({ labels: machineLabels, value: m.cores, ms: m.atMs });
  fam.memory.samples.push({ labels: machineLabels, value: m.memoryBytes, ms: m.atMs });
  for (const c of snap.cgroups) {
    const labels: Labels = [
      ['container', c.container],
      ['id', c.id],
      ['image', c.image],
      ['name', c.name],
      ['namespace', c.namespace],
      ['pod', c.pod],
    ];
    const at = (value: number | undefined, extra: Labels = []): Sample[] => (value === undefined ? [] : [{ labels: [...labels, ...extra], value, ms: c.atMs }]);
    const s = c.stats;
    if (c.startSeconds !== undefined) fam.start.samples.push({ labels, value: c.startSeconds });
    fam.lastSeen.samples.push(...at(Math.floor(c.atMs / 1000)));
    // cAdvisor leaves out a zero total (a cgroup that has not run yet)
    if (s.cpuUsageCoreNanoSeconds) fam.cpu.samples.push(...at(seconds(s.cpuUsageCoreNanoSeconds), [['cpu', 'total']]));
    if (s.memoryUsageBytes !== undefined) {
      fam.usage.samples.push(...at(s.memoryUsageBytes));
      fam.workingSet.samples.push(...at(s.memoryWorkingSetBytes));
      fam.rss.samples.push(...at(s.memoryRssBytes ?? 0));
      fam.cache.samples.push(...at(s.memoryCacheBytes ?? 0));
      fam.oom.samples.push(...at(s.oomKills));
      // no limit is 0, as cAdvisor's specMemoryValue writes it
      fam.memLimit.samples.push({ labels, value: s.memoryLimitBytes ?? 0 });
    }
    if (s.cpuSpec) {
      fam.cpuPeriod.samples.push({ labels, value: s.cpuSpec.periodUs });
      fam.cpuShares.samples.push({ labels, value: s.cpuSpec.shares });
      if (s.cpuSpec.quotaUs !== 0) {
        fam.cpuQuota.samples.push({ labels, value: s.cpuSpec.quotaUs });
        if (s.cfs) {
          fam.cfsPeriods.samples.push(...at(s.cfs.periods));
          fam.cfsThrottledPeriods.samples.push(...at(s.cfs.throttledPeriods));
          fam.cfsThrottledSeconds.samples.push(...at(seconds(s.cfs.throttledNs)));
        }
      }
    }
    for (const i of c.network ?? []) {
      const iface: Labels = [['interface', i.name]];
      fam.rx.samples.push(...at(i.rxBytes, iface));
      fam.rxErrors.samples.push(...at(i.rxErrors, iface));
      fam.tx.samples.push(...at(i.txBytes, iface));
      fam.txErrors.samples.push(...at(i.txErrors, iface));
    }
    for (const d of c.fs ?? []) {
      fam.fsUsage.samples.push(...at(d.usageBytes, [['device', d.device]]));
      fam.fsLimit.samples.push(...at(d.limitBytes, [['device', d.device]]));
    }
  }
  return renderFamilies(Object.values(fam));
}
