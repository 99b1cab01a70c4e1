// /metrics/resource: the kubelet's resource metrics in Prometheus text format, rendered from a
// CPU-and-memory summary exactly as upstream's resource metrics collector
// (pkg/kubelet/metrics/collectors/resource_metrics.go) writes them: its names, help texts with the
// stability tag, label names, families sorted by name, and the sample time as each line's
// timestamp (none on container_start_time_seconds and the scrape errors). Pure.
import type { CPUStats, MemoryStats, Summary } from './types.ts';

interface Family { name: string; help: string; type: 'counter' | 'gauge'; samples: { labels: [string, string][]; value: number; ms?: number }[] }

/** A float as Go's strconv.FormatFloat(f, 'g', -1, 64) writes it (what client_golang's text format uses). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return '0';
  const [mant, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
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
  const f = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });
  const containerCpu = f('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds');
  const containerMem = f('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes');
  const containerStart = f('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds');
  const nodeCpu = f('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds');
  const nodeMem = f('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes');
  const podCpu = f('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds');
  const podMem = f('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes');
  const errorValue = summary ? 0 : 1;
  const resourceError: Family = { ...f('resource_scrape_error', 'gauge', `[STABLE] ${SCRAPE_HELP}`), samples: [{ labels: [], value: errorValue }] };
  const scrapeError: Family = { ...f('scrape_error', 'gauge', `[ALPHA] (Deprecated since 1.29.0) ${SCRAPE_HELP}`), samples: [{ labels: [], value: errorValue }] };
  if (summary) {
    nodeCpu.samples.push(...cpuSample(summary.node.cpu, []));
    nodeMem.samples.push(...memSample(summary.node.memory, []));
    for (const pod of summary.pods) {
      const podLabels: [string, string][] = [['namespace', pod.podRef.namespace], ['pod', pod.podRef.name]];
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
  const families = [containerCpu, containerMem, containerStart, nodeCpu, nodeMem, podCpu, podMem, resourceError, scrapeError];
  const key = (labels: [string, string][]) => labels.map(([, v]) => v).join('\u0000');
  let out = '';
  for (const fam of families) {
    if (!fam.samples.length) continue;
    out += `# HELP ${fam.name} ${fam.help}\n# TYPE ${fam.name} ${fam.type}\n`;
    for (const s of [...fam.samples].sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : key(a.labels) > key(b.labels) ? 1 : 0))) {
      const labels = s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out += `${fam.name}${labels} ${goFloat(s.value)}${s.ms !== undefined && Number.isFinite(s.ms) ? ` ${s.ms}` : ''}\n`;
    }
  }
  return out;
}
