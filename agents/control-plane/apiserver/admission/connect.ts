// The object a CONNECT request's admission webhooks see (pure): kube-apiserver decodes the query of
// pods/attach, pods/exec and pods/portforward into PodAttachOptions, PodExecOptions or
// PodPortForwardOptions, defaults it (stdout and stderr are always true for attach and exec, as
// SetDefaults_PodAttachOptions / SetDefaults_PodExecOptions set them) and sends it in v1 form, false
// booleans and empty fields left out as Go's omitempty does. The stream goes on with the options
// the webhooks admitted: when a mutating webhook changed them, the query is written from them.
import { queryBool } from '../request.ts';

export type ConnectSubresource = 'attach' | 'exec' | 'portforward';

/** The options kind each connect subresource decodes its query into. */
export const CONNECT_KINDS: Record<ConnectSubresource, string> = {
  attach: 'PodAttachOptions',
  exec: 'PodExecOptions',
  portforward: 'PodPortForwardOptions',
};

export const isConnectSubresource = (s: string): s is ConnectSubresource => Object.hasOwn(CONNECT_KINDS, s);

export interface ConnectOptions {
  kind: string;
  apiVersion: 'v1';
  stdin?: true;
  stdout?: true;
  stderr?: true;
  tty?: true;
  container?: string;
  command?: string[];
  ports?: number[];
}

/** The v1 options object of a connect request's query. */
export function connectOptions(sub: ConnectSubresource, q: URLSearchParams): ConnectOptions {
  const o: ConnectOptions = { kind: CONNECT_KINDS[sub], apiVersion: 'v1' };
  if (sub === 'portforward') {
    const ports = q
      .getAll('ports')
      .flatMap((p) => p.split(','))
      .map(Number)
      .filter(Number.isInteger);
    if (ports.length) o.ports = ports;
    return o;
  }
  if (queryBool(q, 'stdin')) o.stdin = true;
  o.stdout = true;
  o.stderr = true;
  if (queryBool(q, 'tty')) o.tty = true;
  const container = q.get('container');
  if (container) o.container = container;
  const command = q.getAll('command');
  if (sub === 'exec' && command.length) o.command = command;
  return o;
}

const QUERY_KEYS = ['stdin', 'stdout', 'stderr', 'tty', 'container', 'command', 'ports'] as const;

/** What a mutating webhook answered, read back as options (fields of the wrong type are dropped). */
function readOptions(sub: ConnectSubresource, o: Record<string, unknown>): ConnectOptions {
  const out: ConnectOptions = { kind: CONNECT_KINDS[sub], apiVersion: 'v1' };
  for (const k of ['stdin', 'stdout', 'stderr', 'tty'] as const) if (o[k] === true) out[k] = true;
  if (typeof o.container === 'string' && o.container) out.container = o.container;
  if (Array.isArray(o.command)) out.command = o.command.filter((c): c is string => typeof c === 'string');
  if (Array.isArray(o.ports)) out.ports = o.ports.filter((p): p is number => Number.isInteger(p));
  return out;
}

/** The query the stream goes on with: the request's, unless a mutating webhook changed its options. */
export function admittedQuery(sub: ConnectSubresource, q: URLSearchParams, sent: ConnectOptions, admitted: Record<string, unknown>): URLSearchParams {
  const a = readOptions(sub, admitted);
  if (JSON.stringify(a) === JSON.stringify(readOptions(sub, { ...sent }))) return q;
  const out = new URLSearchParams(q);
  for (const k of QUERY_KEYS) out.delete(k);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty'] as const) if (a[k]) out.set(k, 'true');
  if (a.container) out.set('container', a.container);
  for (const c of a.command ?? []) out.append('command', c);
  for (const p of a.ports ?? []) out.append('ports', String(p));
  return out;
}
