// Reads a kubelet's /metrics/resource text into the points metrics-server keeps: per node and per
// container the cumulative CPU seconds, the memory working set, each with its sample timestamp,
// and the container's start time (a restart resets the counter). Other series are skipped. Pure.
export interface Point {
  cpuSeconds: number;
  memoryBytes: number /** ms since the epoch of the CPU sample */;
  atMs: number;
  startSeconds?: number;
}

export interface ScrapeBatch {
  node?: Point;
  /** key: namespace/pod/container */
  containers: Map<string, Point>;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const m of text.matchAll(LABEL)) out[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  return out;
}

export const containerKey = (namespace: string, pod: string, container: string) => `${namespace}/${pod}/${container}`;

export function parseResourceMetrics(text: string, nowMs: number): ScrapeBatch {
  const node: Partial<Point> = {};
  const parts = new Map<string, Partial<Point>>();
  const part = (l: Record<string, string>) => {
    const k = containerKey(l.namespace ?? '', l.pod ?? '', l.container ?? '');
    let p = parts.get(k);
    if (!p) parts.set(k, (p = {}));
    return p;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const at = m[4] !== undefined ? Number(m[4]) : nowMs;
    const l = labelsOf(m[2]);
    switch (m[1]) {
      case 'node_cpu_usage_seconds_total':
        node.cpuSeconds = value;
        node.atMs = at;
        break;
      case 'node_memory_working_set_bytes':
        node.memoryBytes = value;
        node.atMs ??= at;
        break;
      case 'container_cpu_usage_seconds_total': {
        const p = part(l);
        p.cpuSeconds = value;
        p.atMs = at;
        break;
      }
      case 'container_memory_working_set_bytes': {
        const p = part(l);
        p.memoryBytes = value;
        p.atMs ??= at;
        break;
      }
      case 'container_start_time_seconds':
        part(l).startSeconds = value;
        break;
      default:
        break;
    }
  }
  const complete = (p: Partial<Point>): p is Point => p.cpuSeconds !== undefined && p.memoryBytes !== undefined && p.atMs !== undefined;
  const containers = new Map<string, Point>();
  for (const [k, p] of parts) if (complete(p)) containers.set(k, p);
  return { ...(complete(node) ? { node } : {}), containers };
}
