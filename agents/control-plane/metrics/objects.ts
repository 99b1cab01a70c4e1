// NodeMetrics and PodMetrics (metrics.k8s.io/v1beta1) as metrics-server writes them: usage as
// quantities (CPU in canonical decimal form from nanocores, memory in binary form from bytes),
// the sample's timestamp and the window it was measured over as a Go duration, and the labels of
// the Node or Pod so that label selectors apply. Pure.
import type { Obj } from '../apiserver/strategies/types.ts';
import type { PodUsage, Usage } from './store.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_API_VERSION = 'metrics.k8s.io/v1beta1';

const DECIMAL: [number, string][] = [
  [1e9, ''],
  [1e6, 'm'],
  [1e3, 'u'],
  [1, 'n'],
];

/** Nanocores as resource.NewScaledQuantity(n, Nano) prints canonically: "250m", "1", "12345n". */
export function cpuQuantity(nanocores: number): string {
  const n = Math.max(0, Math.round(nanocores));
  if (n === 0) return '0';
  for (const [scale, suffix] of DECIMAL) if (n % scale === 0) return `${n / scale}${suffix}`;
  return `${n}n`;
}

const BINARY = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];

/** Bytes as resource.NewQuantity(n, BinarySI) prints canonically: "1536Ki", "1Gi", or plain bytes. */
export function memoryQuantity(bytes: number): string {
  const n = Math.max(0, Math.round(bytes));
  if (n === 0) return '0';
  for (let i = 0; i < BINARY.length; i++) {
    const scale = 1024 ** (BINARY.length - i);
    if (n % scale === 0) return `${n / scale}${BINARY[i]}`;
  }
  return String(n);
}

/** A duration as Go's time.Duration.String writes it: "15.004s", "1m0.5s", "800ms". */
export function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const usage = (u: Usage) => ({ cpu: cpuQuantity(u.cpu), memory: memoryQuantity(u.memoryBytes) });

export function nodeMetrics(node: Obj, u: Usage, nowMs: number): Obj {
  return {
    kind: 'NodeMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: { name: node.metadata.name, creationTimestamp: rfc3339(nowMs), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
    timestamp: rfc3339(u.timestampMs),
    window: goDuration(u.windowMs),
    usage: usage(u),
  };
}

export function podMetrics(pod: Obj, u: PodUsage, nowMs: number): Obj {
  return {
    kind: 'PodMetrics',
    apiVersion: METRICS_API_VERSION,
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      creationTimestamp: rfc3339(nowMs),
      ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
    },
    timestamp: rfc3339(u.timestampMs),
    window: goDuration(u.windowMs),
    containers: u.containers.map((c) => ({ name: c.name, usage: usage(c.usage) })),
  };
}
