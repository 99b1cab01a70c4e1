// GET and LIST of metrics.k8s.io/v1beta1 nodes and pods, answered from the MetricsStore and the
// stored Nodes and Pods (for labels, namespaces and label selectors), with metrics-server's
// errors: an object without metrics yet is a 404 NotFound for nodemetrics / podmetrics.
import { ApiError, methodNotSupported } from '../apiserver/errors.ts';
import { matchLabels, parseLabelSelector, SelectorError } from '../apiserver/selectors.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { METRICS_API_VERSION, METRICS_GROUP, nodeMetrics, podMetrics } from './objects.ts';
import type { MetricsStore } from './store.ts';

export interface MetricsRequest {
  plural: 'nodes' | 'pods';
  verb: string;
  namespace?: string;
  name?: string;
  query: URLSearchParams;
}

export interface MetricsSources {
  store: MetricsStore;
  /** Nodes, or the Pods of a namespace (all with none) */
  list(plural: 'nodes' | 'pods', namespace?: string): Promise<Obj[]>;
  nowMs(): number;
}

const notFound = (resource: string, name: string) =>
  new ApiError(404, 'NotFound', `${resource}.${METRICS_GROUP} "${name}" not found`, { name, group: METRICS_GROUP, kind: resource });

export async function serveMetrics(s: MetricsSources, r: MetricsRequest): Promise<Obj> {
  if (r.verb !== 'get' && r.verb !== 'list') throw methodNotSupported({ group: METRICS_GROUP, plural: r.plural }, r.verb);
  let selector;
  try {
    selector = parseLabelSelector(r.query.get('labelSelector') ?? undefined);
  } catch (e) {
    if (e instanceof SelectorError) throw new ApiError(400, 'BadRequest', e.message);
    throw e;
  }
  const now = s.nowMs();
  const objects = (await s.list(r.plural, r.namespace)).filter((o) => (r.name ? o.metadata.name === r.name : matchLabels(selector, o.metadata.labels)));
  const items = objects.flatMap((o) => {
    if (r.plural === 'nodes') {
      const u = s.store.node(o.metadata.name ?? '');
      return u ? [nodeMetrics(o, u, now)] : [];
    }
    const u = s.store.pod(o.metadata.namespace ?? '', o.metadata.name ?? '');
    return u ? [podMetrics(o, u, now)] : [];
  });
  if (r.name) {
    if (!items[0]) throw r.plural === 'nodes' ? notFound('nodemetrics', r.name) : notFound('podmetrics', `${r.namespace}/${r.name}`);
    return items[0];
  }
  return { kind: r.plural === 'nodes' ? 'NodeMetricsList' : 'PodMetricsList', apiVersion: METRICS_API_VERSION, metadata: {}, items };
}
