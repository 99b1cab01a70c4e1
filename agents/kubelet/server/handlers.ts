// What each kubelet API route does once the caller is authenticated and authorized: the thin I/O
// between the pure decisions (params, containers) and the runtime (CRI) and the log files.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isAbsolute, relative, resolve } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { CriClient } from '../cri/client.ts';
import { CONTAINER_NAME, POD_UID } from '../pods/labels.ts';
import { findPod, logInstance, readySandbox, requireContainer, runningInstance } from './containers.ts';
import { writeContainerLog } from './log-stream.ts';
import type { KubeletMetrics } from './metrics.ts';
import { runtimeCounts } from './metrics.ts';
import { summaryJson, type StatsProvider } from '../stats/provider.ts';
import { renderResourceMetrics } from '../stats/resource-metrics.ts';
import { renderCadvisorMetrics } from '../stats/cadvisor-metrics.ts';
import { logger } from '../../api/log.ts';
import { parseLogQuery, parsePorts, parseStreamQuery, type Route, type StreamRoute } from './params.ts';
import { HttpError } from './status.ts';

/** The CRI calls the server makes; a CriClient has them all. */
export type ServerCri = Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'containerStatus' | 'exec' | 'attach' | 'portForward'>;

export interface HandlerContext {
  cri: ServerCri;
  pods(): V1Pod[];
  podLogDir: string;
  metrics: KubeletMetrics;
  /** /stats/summary, /metrics/resource and /metrics/cadvisor (404 without) */
  stats?: Pick<StatsProvider, 'summary' | 'cadvisor'>;
  /** aborted when the server closes: ends log follows */
  closing: AbortSignal;
}

const json = (res: ServerResponse, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
};

const log = logger('kubelet-server');
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

export async function serveSimple(ctx: HandlerContext, route: Route, res: ServerResponse, query = new URLSearchParams()): Promise<void> {
  switch (route.kind) {
    case 'healthz':
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok');
      return;
    case 'pods':
      json(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: ctx.pods() });
      return;
    case 'metrics': {
      const text = await ctx.metrics.render(async () => {
        const [sandboxes, containers] = await Promise.all([ctx.cri.listPodSandbox(), ctx.cri.listContainers()]);
        return runtimeCounts(sandboxes, containers);
      });
      res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType }).end(text);
      return;
    }
    case 'statsSummary': {
      if (!ctx.stats) throw new HttpError(404, 'the server could not find the requested resource');
      const only = query.get('only_cpu_and_memory') === 'true';
      const text = summaryJson(await ctx.stats.summary(only));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
      return;
    }
    case 'metricsResource': {
      if (!ctx.stats) throw new HttpError(404, 'the server could not find the requested resource');
      // as upstream's collector: a failed summary is a 200 with the scrape errors at 1
      const summary = await ctx.stats.summary(true).catch((err: unknown) => void log.warn({ err: String(err) }, 'resource metrics: stats failed'));
      res.writeHead(200, { 'Content-Type': PROMETHEUS_TEXT }).end(renderResourceMetrics(summary ?? undefined));
      return;
    }
    case 'metricsCadvisor': {
      if (!ctx.stats) throw new HttpError(404, 'the server could not find the requested resource');
      // as cAdvisor's collectors: a failed read is a 200 with container_scrape_error and machine_scrape_error at 1
      const snap = await ctx.stats.cadvisor().catch((err: unknown) => void log.warn({ err: String(err) }, 'cadvisor metrics: stats failed'));
      res.writeHead(200, { 'Content-Type': PROMETHEUS_TEXT }).end(renderCadvisorMetrics(snap ?? undefined));
      return;
    }
    default:
      throw new HttpError(500, `route ${route.kind} is not a simple one`);
  }
}

/**
 * The log file of a container instance. The runtime reports the absolute path; it must lie under
 * the pod log directory, since a log request must not become a way to read other files.
 */
export function checkedLogPath(podLogDir: string, logPath: string): string {
  const root = resolve(podLogDir);
  const path = resolve(logPath);
  const rel = relative(root, path);
  if (!logPath || rel.startsWith('..') || isAbsolute(rel)) throw new HttpError(500, `container log ${JSON.stringify(logPath)} is not under ${root}`);
  return path;
}

export async function serveContainerLogs(
  ctx: HandlerContext,
  route: Extract<Route, { kind: 'containerLogs' }>,
  query: URLSearchParams,
  res: ServerResponse,
): Promise<void> {
  const opts = parseLogQuery(query);
  const pod = findPod(ctx.pods(), route.namespace, route.pod);
  requireContainer(pod, route.container);
  const instances = await ctx.cri.listContainers({ labelSelector: { [POD_UID]: pod.metadata!.uid!, [CONTAINER_NAME]: route.container } });
  const instance = logInstance(instances, opts.previous, route.pod, route.container);
  const status = (await ctx.cri.containerStatus(instance.id)).status;
  const path = checkedLogPath(ctx.podLogDir, status?.logPath ?? '');
  const follow = opts.follow && status?.state === 'CONTAINER_RUNNING';

  const ac = new AbortController();
  const abort = () => ac.abort();
  res.on('close', abort);
  ctx.closing.addEventListener('abort', abort, { once: true });
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  if (follow) res.flushHeaders();
  try {
    await writeContainerLog(path, { ...opts, follow }, res, {
      signal: ac.signal,
      isRunning: async () => (await ctx.cri.containerStatus(instance.id).catch(() => undefined))?.status?.state === 'CONTAINER_RUNNING',
    });
  } finally {
    ctx.closing.removeEventListener('abort', abort);
    res.end();
  }
}

/** Asks the runtime for the streaming URL of an exec, attach or port-forward request. */
export async function streamTarget(ctx: HandlerContext, route: StreamRoute, req: IncomingMessage, query: URLSearchParams): Promise<string> {
  if (req.method !== 'GET' && req.method !== 'POST') throw new HttpError(405, `method ${req.method} is not allowed on /${route.kind}`);
  const pod = findPod(ctx.pods(), route.namespace, route.pod, route.uid);
  const uid = pod.metadata!.uid!;
  if (route.kind === 'portForward') {
    const ports = parsePorts(query);
    const sandbox = readySandbox(await ctx.cri.listPodSandbox({ labelSelector: { [POD_UID]: uid } }), route.pod);
    return ctx.cri.portForward(sandbox.id, ports);
  }
  const o = parseStreamQuery(query, route.kind);
  requireContainer(pod, route.container);
  const instances = await ctx.cri.listContainers({ labelSelector: { [POD_UID]: uid, [CONTAINER_NAME]: route.container } });
  const c = runningInstance(instances, route.pod, route.container);
  const streams = { tty: o.tty, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr };
  return route.kind === 'exec' ? ctx.cri.exec({ containerId: c.id, cmd: o.command, ...streams }) : ctx.cri.attach({ containerId: c.id, ...streams });
}
