// /metrics/resource: the kubelet's resource metrics in Prometheus text format, rendered from a
// CPU-and-memory summary exactly as upstream's resource metrics collector
// (pkg/kubelet/metrics/collectors/resource_metrics.go) writes them: its names, help texts with the
// stability tag, label names, families sorted by name, and the sample time as each line's
// timestamp (none on container_start_time_seconds and the scrape errors). Pure.
import type { CPUStats, MemoryStats, Summary } from './types.ts';
import { family as f, renderFamilies, type Family } from './exposition.ts';

export { goFloat } from './exposition.ts';

const ms = (time: string) => Date.parse(time);
const seconds = (ns: number) => ns / 1e9;

function cpuSample(cpu: CPUStats | undefined, labels: [string, string][]) {
  return cpu?.usageCoreNanoSeconds === undefined ? [] : [{ labels, value: seconds(cpu.usageCoreNanoSeconds), ms: ms(cpu.time) }];
}
function memSample(mem: MemoryStats | undefined, labels: [string, string][]) {
  return mem?.workingSetBytes === undefined ? [] : [{ labels, value: mem.workingSetBytes, ms: ms(mem.time) }];
}

const SCRAPE_HELP = '1 if there was an error while getting container metrics, 0 otherwise';

/** The exposition text for a summary, or for a failed one (only the scrape errors, at 1). */
export function renderResourceMetrics(summary: Summary | undefined): string {
  const containerCpu = f('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds');
  const containerMem = f('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes');
  const containerStart = f('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds');
  const nodeCpu = f('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds');
  const nodeMem = f('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes');
  const podCpu = f('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds');
  const podMem = f('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes');
  const errorValue = summary ? 0 : 1;
  const resourceError: Family = { ...f('resource_scrape_error', 'gauge', `[STABLE] ${SCRAPE_HELP}`), samples: [{ labels: [], value: errorValue }] };
  const scrapeError: Family = {
    ...f('scrape_error', 'gauge', `[ALPHA] (Deprecated since 1.29.0) ${SCRAPE_HELP}`),
    samples: [{ labels: [], value: errorValue }],
  };
  if (summary) {
    nodeCpu.samples.push(...cpuSample(summary.node.cpu, []));
    nodeMem.samples.push(...memSample(summary.node.memory, []));
    for (const pod of summary.pods) {
      const podLabels: [string, string][] = [
        ['namespace', pod.podRef.namespace],
        ['pod', pod.podRef.name],
      ];
      for (const c of pod.containers) {
        const labels: [string, string][] = [['container', c.name], ...podLabels];
        const start = Date.parse(c.startTime);
        if (start > 0) containerStart.samples.push({ labels, value: start / 1000 });
        containerCpu.samples.push(...cpuSample(c.cpu, labels));
        containerMem.samples.push(...memSample(c.memory, labels));
      }
      podCpu.samples.push(...cpuSample(pod.cpu, podLabels));
      podMem.samples.push(...memSample(pod.memory, podLabels));
    }
  }
  return renderFamilies([containerCpu, containerMem, containerStart, nodeCpu, nodeMem, podCpu, podMem, resourceError, scrapeError]);
}
