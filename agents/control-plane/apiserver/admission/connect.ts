// The object a CONNECT request's admission webhooks see (pure): kube-apiserver decodes the query of
// pods/attach, pods/exec and pods/portforward into PodAttachOptions, PodExecOptions or
// PodPortForwardOptions, defaults it (stdout and stderr are always true for attach and exec, as
// SetDefaults_PodAttachOptions / SetDefaults_PodExecOptions set them) and sends it in v1 form, false
// booleans and empty fields left out as Go's omitempty does.
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
