// /metrics in Prometheus text format: a few of upstream kubelet's series under their upstream names
// (kubelet_running_pods, kubelet_running_containers by state, kubelet_node_name,
// kubelet_http_requests_total) plus the process metrics prom-client collects. Runtime counts are
// read from CRI at scrape time, so they are never staler than the scrape.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Container__Output as Container, PodSandbox__Output as PodSandbox } from '../cri/api-types.ts';

const STATES = { CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'exited', CONTAINER_CREATED: 'created', CONTAINER_UNKNOWN: 'unknown' } as const;

export interface RuntimeCounts {
  runningPods: number;
  containers: Record<(typeof STATES)[keyof typeof STATES], number>;
}

/** Pods with a ready sandbox, and containers by state (every state present, zero included). */
export function runtimeCounts(sandboxes: PodSandbox[], containers: Container[]): RuntimeCounts {
  const out: RuntimeCounts = {
    runningPods: sandboxes.filter((s) => s.state === 'SANDBOX_READY').length,
    containers: { running: 0, exited: 0, created: 0, unknown: 0 },
  };
  for (const c of containers) out.containers[STATES[c.state] ?? 'unknown']++;
  return out;
}

export interface KubeletMetrics {
  registry: Registry;
  /** counts one served request; `path` is the route's first segment */
  request(method: string, path: string, longRunning: boolean): void;
  /** the exposition text, with runtime counts read now */
  render(counts: () => Promise<RuntimeCounts>): Promise<string>;
}

/**
 * How often the event-loop lag histogram (nodejs_eventloop_lag_*) samples. prom-client's default,
 * 10 ms, is a timer that wakes an idle kubelet 100 times a second, most of its idle CPU (#20);
 * once a second still shows a stalled loop, and upstream's kubelet has no such series at all.
 */
export const EVENT_LOOP_SAMPLE_MS = 1000;

export function createMetrics(nodeName: string): KubeletMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const pods = new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers: [registry] });
  const containers = new Gauge({
    name: 'kubelet_running_containers',
    help: 'Number of containers currently running',
    labelNames: ['container_state'],
    registers: [registry],
  });
  new Gauge({ name: 'kubelet_node_name', help: "The node's name. The count is always 1.", labelNames: ['node'], registers: [registry] }).set(
    { node: nodeName },
    1,
  );
  const requests = new Counter({
    name: 'kubelet_http_requests_total',
    help: 'Number of the http requests received since the server started',
    labelNames: ['method', 'path', 'server_type', 'long_running'],
    registers: [registry],
  });
  return {
    registry,
    request: (method, path, longRunning) => requests.inc({ method, path, server_type: 'readwrite', long_running: String(longRunning) }),
    async render(counts) {
      const c = await counts();
      pods.set(c.runningPods);
      for (const [state, n] of Object.entries(c.containers)) containers.set({ container_state: state }, n);
      return registry.metrics();
    },
  };
}
