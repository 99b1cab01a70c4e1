// The aggregator's transport (upstream's proxyHandler): a request hawser already authenticated and
// authorized goes over HTTPS to the APIService's Service endpoint, the certificate checked against
// spec.caBundle as `<service>.<namespace>.svc` (not at all under insecureSkipTLSVerify), with the
// front-proxy client certificate and the user in X-Remote-User / X-Remote-Group /
// X-Remote-Extra-<key> instead of the caller's credentials. The answer is piped back as it comes
// (a watch streams, with TCP back-pressure, never buffered whole); a backend that cannot be reached
// is upstream's plain-text 503 with the Go error text.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UserInfo } from '../../auth/attributes.ts';
import { goError } from '../admission/client.ts';
import { type FrontProxyCredentials, REQUEST_HEADERS } from './request-header.ts';

export interface AggregatedTarget {
  host: string;
  port: number;
  /** the name the serving certificate must carry */
  servername: string;
  /** PEM roots from caBundle; undefined with insecure */
  ca?: string;
  insecure: boolean;
  /** path and query as the client sent them */
  path: string;
  user: UserInfo;
  creds: FrontProxyCredentials;
}

const CONNECT_TIMEOUT_MS = 30_000;

/** Request headers a backend must not see: the caller's credentials and what the front proxy sets itself. */
const DROPPED = /^(authorization|impersonate-.*|x-remote-.*|connection|keep-alive|transfer-encoding|upgrade|host|proxy-.*)$/;

/** The headers sent to the backend (pure). */
export function backendHeaders(incoming: Record<string, string | string[] | undefined>, user: UserInfo): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(incoming)) if (v !== undefined && !DROPPED.test(k)) out[k] = v;
  out[REQUEST_HEADERS.user] = user.name;
  if (user.groups.length) out[REQUEST_HEADERS.group] = [...user.groups];
  for (const [k, vs] of Object.entries(user.extra ?? {})) out[`${REQUEST_HEADERS.extraPrefix}${encodeURIComponent(k)}`] = [...vs];
  return out;
}

export function backendRequest(t: AggregatedTarget, method: string, headers: Record<string, string | string[]>) {
  return https.request({
    host: t.host,
    port: t.port,
    path: t.path,
    method,
    headers,
    agent: false,
    servername: t.servername,
    ca: t.ca,
    rejectUnauthorized: !t.insecure,
    cert: t.creds.cert,
    key: t.creds.key,
  });
}

/** The URL a target stands for, as Go's errors name it. */
export const targetURL = (t: Pick<AggregatedTarget, 'host' | 'port' | 'path'>) =>
  new URL(`https://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.path}`);

function plainError(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(`${text}\n`);
}

/** Proxies one request; resolves when the answer (or the error) has been written. */
export function proxyAggregated(t: AggregatedTarget, req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<void> {
  return new Promise((resolve) => {
    const headers = backendHeaders(req.headers, t.user);
    if (body) headers['content-length'] = String(body.length);
    const br = backendRequest(t, req.method ?? 'GET', headers);
    br.setTimeout(CONNECT_TIMEOUT_MS, () => br.destroy(new Error('net/http: timeout awaiting response headers')));
    res.on('close', () => br.destroy());
    br.on('response', (kres) => {
      br.setTimeout(0);
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(kres.headers)) if (v !== undefined && !/^(connection|keep-alive|transfer-encoding)$/.test(k)) out[k] = v;
      res.writeHead(kres.statusCode ?? 502, out);
      res.flushHeaders();
      kres.pipe(res);
      kres.on('end', resolve);
      kres.on('error', () => (res.destroy(), resolve()));
    });
    br.on('error', (e) => {
      if (res.headersSent) res.destroy();
      else plainError(res, 503, goError(e, { url: targetURL(t), servername: t.servername }));
      resolve();
    });
    br.end(body);
  });
}
