// The API server's half of pods/proxy, services/proxy and nodes/proxy: the request (method, headers
// minus the caller's credentials, the body already read) goes to the backend chosen in
// proxy-target.ts, the answer streams back as upstream's UpgradeAwareHandler passes it: CORS
// headers dropped, a redirect's Location and the links of an HTML page rewritten under the proxy
// path (proxy-rewrite.ts), a backend that cannot be reached a 503 Status.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BackendError } from './errors.ts';
import { type KubeletCredentials, forwardHeaders } from './kubelet-proxy.ts';
import type { ProxyTarget } from './proxy-target.ts';
import { rewriteHtml, rewriteLocation } from './proxy-rewrite.ts';

const CONNECT_TIMEOUT_MS = 30_000;
/** an HTML page is rewritten in memory only up to this size; larger ones pass unchanged */
const MAX_REWRITE_BYTES = 4 << 20;

function backendRequest(t: ProxyTarget, creds: KubeletCredentials | undefined, req: IncomingMessage, body: Buffer | undefined) {
  const headers = forwardHeaders(req, false);
  delete headers['accept-encoding'];
  const prior = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = [prior, req.socket.remoteAddress].filter(Boolean).join(', ');
  if (body) headers['content-length'] = String(body.length);
  const common = { host: t.host, port: t.port, path: t.path, method: req.method ?? 'GET', headers, agent: false as const };
  if (t.scheme === 'http') return http.request(common);
  // kubelets are verified against the cluster CA; pods and Services as upstream: not at all
  return t.kubelet && creds
    ? https.request({ ...common, cert: creds.cert, key: creds.key, ca: creds.ca, rejectUnauthorized: true })
    : https.request({ ...common, rejectUnauthorized: false });
}

function responseHeaders(kres: IncomingMessage, t: ProxyTarget): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(kres.headers)) {
    if (v === undefined || k.startsWith('access-control-') || k === 'connection' || k === 'transfer-encoding' || k === 'keep-alive') continue;
    out[k] = v;
  }
  if (t.prefix && typeof out.location === 'string') out.location = rewriteLocation(out.location, t.prefix, `${t.host}:${t.port}`);
  return out;
}

const isHtml = (kres: IncomingMessage) =>
  String(kres.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase() === 'text/html';

/** Sends the request to the backend and streams its answer back; rejects with a Status error only before anything was sent. */
export function proxyToBackend(
  t: ProxyTarget,
  creds: KubeletCredentials | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const br = backendRequest(t, creds, req, body);
    br.setTimeout(CONNECT_TIMEOUT_MS, () => br.destroy(new Error('timeout awaiting response headers')));
    res.on('close', () => br.destroy());
    br.on('response', (kres) => {
      br.setTimeout(0);
      const headers = responseHeaders(kres, t);
      const rewrite = t.prefix && isHtml(kres) && !kres.headers['content-encoding'] && Number(kres.headers['content-length'] ?? 0) <= MAX_REWRITE_BYTES;
      if (!rewrite) {
        res.writeHead(kres.statusCode ?? 502, headers);
        kres.pipe(res);
        kres.on('end', resolve);
        kres.on('error', () => (res.destroy(), resolve()));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      kres.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_REWRITE_BYTES) chunks.push(c);
        else kres.destroy(new Error('HTML page too large to rewrite'));
      });
      kres.on('end', () => {
        const text = rewriteHtml(Buffer.concat(chunks).toString('utf8'), t.prefix!, `${t.host}:${t.port}`);
        delete headers['content-length'];
        res.writeHead(kres.statusCode ?? 502, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
        res.end(req.method === 'HEAD' ? undefined : text);
        resolve();
      });
      kres.on('error', () => (res.destroy(), resolve()));
    });
    br.on('error', (e) => {
      if (res.headersSent) return void (res.destroy(), resolve());
      // upstream's proxy ErrorResponder answers a dial failure as 503 with the Go error text
      reject(new BackendError(503, 'ServiceUnavailable', `error trying to reach service: ${e.message}`));
    });
    br.end(body);
  });
}
