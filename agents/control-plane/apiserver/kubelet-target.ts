// Where a pods/log, exec, attach or portforward request goes on the pod's kubelet: the node's
// address and kubelet port, and upstream's kubelet paths and query parameters (pure).
import { ApiError, badRequest, notFound } from './errors.ts';
import type { Obj } from './strategies/types.ts';

export interface KubeletTarget {
  host: string;
  port: number;
  /** path and query on the kubelet */
  path: string;
}

export const KUBELET_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'];

const LOG_PARAMS = ['follow', 'previous', 'sinceSeconds', 'sinceTime', 'timestamps', 'tailLines', 'limitBytes'];
const STREAM_PARAMS = ['stdin', 'stdout', 'stderr', 'tty'];
const ADDRESS_ORDER = ['InternalIP', 'ExternalIP', 'Hostname'];

function containerFor(pod: Obj, query: URLSearchParams): string {
  const spec = pod.spec ?? {};
  const all: string[] = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].map((c: { name: string }) => c.name);
  const name = pod.metadata.name;
  let c = query.get('container') ?? '';
  if (!c) {
    const regular: string[] = (spec.containers ?? []).map((x: { name: string }) => x.name);
    const preferred = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (regular.length === 1) c = regular[0];
    else if (preferred && all.includes(preferred)) c = preferred;
    else throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${regular.join(' ')}]`);
  }
  if (!all.includes(c)) throw badRequest(`container ${c} is not valid for pod ${name}`);
  return c;
}

function pick(query: URLSearchParams, names: string[]): URLSearchParams {
  const out = new URLSearchParams();
  for (const n of names) for (const v of query.getAll(n)) out.append(n, v);
  return out;
}

function withQuery(path: string, q: URLSearchParams): string {
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The address the API server dials a node's kubelet at (InternalIP, ExternalIP, Hostname). */
export function preferredNodeAddress(node: Obj): string {
  const addrs: { type: string; address: string }[] = node.status?.addresses ?? [];
  const host = ADDRESS_ORDER.map((t) => addrs.find((a) => a.type === t)?.address).find(Boolean);
  if (!host) throw new ApiError(500, 'InternalError', `no preferred addresses found; known addresses: ${JSON.stringify(addrs)}`);
  return host;
}

export function kubeletTarget(pod: Obj, node: Obj | undefined, sub: string, query: URLSearchParams): KubeletTarget {
  const ns = pod.metadata.namespace!;
  const name = pod.metadata.name!;
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  if (!node) throw notFound({ group: '', plural: 'nodes' }, nodeName);
  const host = preferredNodeAddress(node);
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port) || 10250;
  const enc = encodeURIComponent;
  switch (sub) {
    case 'log': {
      const c = containerFor(pod, query);
      return { host, port, path: withQuery(`/containerLogs/${enc(ns)}/${enc(name)}/${enc(c)}`, pick(query, LOG_PARAMS)) };
    }
    case 'exec': {
      const c = containerFor(pod, query);
      if (!query.getAll('command').length) throw badRequest('you must specify at least 1 command');
      return { host, port, path: withQuery(`/exec/${enc(ns)}/${enc(name)}/${enc(c)}`, pick(query, ['command', ...STREAM_PARAMS])) };
    }
    case 'attach': {
      const c = containerFor(pod, query);
      return { host, port, path: withQuery(`/attach/${enc(ns)}/${enc(name)}/${enc(c)}`, pick(query, STREAM_PARAMS)) };
    }
    case 'portforward': {
      // PodPortForwardOptions' "ports" reach the kubelet as "port", one value each (upstream's PortForwardLocation)
      const ports = new URLSearchParams();
      for (const v of query.getAll('ports').flatMap((s) => s.split(','))) ports.append('port', v.trim());
      return { host, port, path: withQuery(`/portForward/${enc(ns)}/${enc(name)}`, ports) };
    }
    default:
      throw badRequest(`unsupported subresource ${sub}`);
  }
}
