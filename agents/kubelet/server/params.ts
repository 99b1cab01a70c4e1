// The kubelet API's paths and query parameters, decoded and validated as upstream's kubelet does,
// so that the URLs kube-apiserver builds for pods/log, pods/exec, pods/attach and pods/portforward
// (and the hawser API server's copies of them) land here unchanged. Pure: errors are HttpErrors.
import type { LogOptions, LogStream } from './cri-log.ts';
import { badRequest, HttpError } from './status.ts';

export type Route =
  | { kind: 'healthz' | 'pods' | 'metrics' | 'metricsResource' | 'metricsCadvisor' | 'statsSummary' }
  | { kind: 'containerLogs'; namespace: string; pod: string; container: string }
  | { kind: 'exec' | 'attach'; namespace: string; pod: string; uid?: string; container: string }
  | { kind: 'portForward'; namespace: string; pod: string; uid?: string };

/** Routes whose work happens on an upgraded connection (SPDY/3.1 or WebSocket), relayed to the runtime. */
export type StreamRoute = Extract<Route, { kind: 'exec' | 'attach' | 'portForward' }>;
export const isStreamRoute = (r: Route): r is StreamRoute => r.kind === 'exec' || r.kind === 'attach' || r.kind === 'portForward';

export function parseRoute(pathname: string): Route | undefined {
  let parts: string[];
  try {
    parts = pathname.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (parts.at(-1) === '' && parts.length > 1) parts.pop(); // a trailing slash
  if (parts.some((p) => p === '')) return undefined;
  const [head, ...rest] = parts;
  switch (head) {
    case 'healthz': // also /healthz/ping and the like
      return { kind: 'healthz' };
    case 'pods':
      return rest.length === 0 ? { kind: head } : undefined;
    case 'metrics':
      if (rest.length === 1 && rest[0] === 'resource') return { kind: 'metricsResource' };
      if (rest.length === 1 && rest[0] === 'cadvisor') return { kind: 'metricsCadvisor' };
      return rest.length === 0 ? { kind: head } : undefined;
    case 'stats':
      return rest.length === 1 && rest[0] === 'summary' ? { kind: 'statsSummary' } : undefined;
    case 'containerLogs':
      return rest.length === 3 ? { kind: 'containerLogs', namespace: rest[0]!, pod: rest[1]!, container: rest[2]! } : undefined;
    case 'exec':
    case 'attach':
      if (rest.length === 3) return { kind: head, namespace: rest[0]!, pod: rest[1]!, container: rest[2]! };
      if (rest.length === 4) return { kind: head, namespace: rest[0]!, pod: rest[1]!, uid: rest[2]!, container: rest[3]! };
      return undefined;
    case 'portForward': // the spelling kube-apiserver uses
    case 'portforward':
      if (rest.length === 2) return { kind: 'portForward', namespace: rest[0]!, pod: rest[1]! };
      if (rest.length === 3) return { kind: 'portForward', namespace: rest[0]!, pod: rest[1]!, uid: rest[2]! };
      return undefined;
    default:
      return undefined;
  }
}

export interface LogRequest extends LogOptions {
  follow: boolean;
  previous: boolean;
}

/** Query booleans as the API's parameter codec reads them: absent is false, "false"/"0" are false, anything else true. */
function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!/^[+-]?\d{1,15}$/.test(v)) throw badRequest(`unable to decode query: ${name}: invalid integer ${JSON.stringify(v)}`);
  return Number(v);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const STREAMS: Record<string, LogStream | undefined> = { All: undefined, Stdout: 'stdout', Stderr: 'stderr' };

/** PodLogOptions from the query of /containerLogs/...; sinceSeconds is turned into sinceTime against `now`. */
export function parseLogQuery(q: URLSearchParams, now = new Date()): LogRequest {
  // the legacy "tail" parameter: a line count, or "all"
  const legacyTail = q.get('tail');
  if (legacyTail !== null) {
    q = new URLSearchParams(q);
    if (legacyTail === 'all') q.delete('tailLines');
    else q.set('tailLines', legacyTail);
  }
  const tailLines = queryInt(q, 'tailLines');
  const limitBytes = queryInt(q, 'limitBytes');
  const sinceSeconds = queryInt(q, 'sinceSeconds');
  const sinceRaw = q.get('sinceTime');
  let sinceTime: Date | undefined;
  if (sinceRaw !== null) {
    if (!RFC3339.test(sinceRaw)) throw badRequest(`unable to decode query: sinceTime: not an RFC3339 time: ${JSON.stringify(sinceRaw)}`);
    sinceTime = new Date(Date.parse(sinceRaw));
  }
  const streamRaw = q.get('stream') ?? 'All';
  if (!(streamRaw in STREAMS)) throw invalidLog(`stream: Unsupported value: ${JSON.stringify(streamRaw)}: supported values: "All", "Stderr", "Stdout"`);

  if (tailLines !== undefined && tailLines < 0) throw invalidLog(`tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0`);
  if (limitBytes !== undefined && limitBytes < 1) throw invalidLog(`limitBytes: Invalid value: ${limitBytes}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceSeconds < 1) throw invalidLog(`sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0`);
  if (sinceSeconds !== undefined && sinceTime) throw invalidLog('sinceSeconds: Forbidden: at most one of sinceTime or sinceSeconds may be specified');
  if (sinceSeconds !== undefined) sinceTime = new Date(now.getTime() - sinceSeconds * 1000);

  const out: LogRequest = { follow: queryBool(q, 'follow'), previous: queryBool(q, 'previous'), timestamps: queryBool(q, 'timestamps') };
  if (tailLines !== undefined) out.tailLines = tailLines;
  if (limitBytes !== undefined) out.limitBytes = limitBytes;
  if (sinceTime) out.sinceTime = sinceTime;
  if (STREAMS[streamRaw]) out.stream = STREAMS[streamRaw];
  return out;
}

const invalidLog = (why: string) => new HttpError(422, `PodLogOptions is invalid: ${why}`);

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /** exec only */
  command: string[];
}

// kube-apiserver sends "1"; clients that talk to the kubelet directly often send "true"
const flag = (q: URLSearchParams, name: string) => ['1', 'true'].includes((q.get(name) ?? '').toLowerCase());

export function parseStreamQuery(q: URLSearchParams, kind: 'exec' | 'attach'): StreamOptions {
  const tty = flag(q, 'tty');
  const o: StreamOptions = { stdin: flag(q, 'stdin'), stdout: flag(q, 'stdout'), stderr: flag(q, 'stderr') && !tty, tty, command: q.getAll('command') };
  if (!o.stdin && !o.stdout && !o.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (kind === 'exec' && o.command.length === 0) throw badRequest('you must specify at least one command for the container');
  return o;
}

/** The ports of a port-forward: `port` values, each possibly a comma-separated list (as kube-apiserver joins them). */
export function parsePorts(q: URLSearchParams): number[] {
  const out: number[] = [];
  for (const v of q.getAll('port').flatMap((s) => s.split(','))) {
    const p = v.trim();
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw badRequest(`unable to parse ${JSON.stringify(v)} as a port`);
    out.push(Number(p));
  }
  return out;
}
