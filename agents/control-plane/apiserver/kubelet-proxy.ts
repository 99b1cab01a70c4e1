// The API server's half of `kubectl logs`, `exec`, `attach` and `port-forward`: requests are sent to
// the pod's kubelet with the API server's kubelet-client certificate, plain responses are streamed
// back, and upgraded connections (SPDY) are spliced byte for byte once the kubelet said 101.
// The kubelet's serving certificate must be signed by the cluster CA and name the address dialled
// (upstream with --kubelet-certificate-authority): kubelets get one from the control plane
// (join/serving-cert.ts), so nothing in between can pose as a kubelet and read exec sessions.
import https from 'node:https';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, BackendError, statusBody } from './errors.ts';
import type { KubeletTarget } from './kubelet-target.ts';

export interface KubeletCredentials {
  cert: string;
  key: string;
  /** the CA kubelets' serving certificates must chain to (the cluster CA) */
  ca: string;
}

const CONNECT_TIMEOUT_MS = 10_000;
// hop-by-hop and caller-identity headers stay on this side
const DROP = new Set([
  'host',
  'authorization',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'impersonate-user',
  'impersonate-group',
]);

export function forwardHeaders(req: IncomingMessage, upgrade: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) out[k] = v;
  if (upgrade) out['connection'] = 'Upgrade';
  return out;
}

/**
 * One request to a kubelet. Without an agent the connection is its own and closes with the request
 * (streams, upgrades); a keep-alive agent (the metrics scraper's) reuses one TLS connection per kubelet.
 */
export function kubeletRequest(
  target: KubeletTarget,
  creds: KubeletCredentials,
  method: string,
  headers: Record<string, string | string[]>,
  agent: https.Agent | false = false,
) {
  const r = https.request({
    host: target.host,
    port: target.port,
    path: target.path,
    method,
    headers,
    cert: creds.cert,
    key: creds.key,
    ca: creds.ca,
    rejectUnauthorized: true,
    agent,
  });
  r.setTimeout(CONNECT_TIMEOUT_MS, () => {
    // only the wait for a response is bounded; a streaming response clears this below
    r.destroy(new Error(`kubelet at ${target.host}:${target.port} did not answer`));
  });
  return r;
}

function unreachable(target: KubeletTarget, e: unknown): ApiError {
  return new BackendError(502, 'InternalError', `error trying to reach the kubelet at ${target.host}:${target.port}: ${(e as Error).message}`);
}

/** GET pods/<name>/log: the kubelet's answer, streamed as it comes (follow=true keeps it open). */
export function proxyPlain(target: KubeletTarget, creds: KubeletCredentials, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const kr = kubeletRequest(target, creds, 'GET', forwardHeaders(req, false));
    res.on('close', () => kr.destroy());
    kr.on('response', (kres) => {
      kr.setTimeout(0);
      const headers: Record<string, string> = { 'Cache-Control': 'no-cache, private' };
      if (kres.headers['content-type']) headers['Content-Type'] = String(kres.headers['content-type']);
      res.writeHead(kres.statusCode ?? 502, headers);
      res.flushHeaders();
      kres.pipe(res);
      kres.on('end', resolve);
      kres.on('error', resolve);
    });
    kr.on('error', (e) => (res.headersSent ? (res.destroy(), resolve()) : reject(unreachable(target, e))));
    kr.end();
  });
}

function rawResponse(status: number, phrase: string, headers: Record<string, string | string[] | undefined>): string {
  // the phrase is HTTP's, never a Status reason: an empty one or one with spaces is still a valid line
  const lines = [`HTTP/1.1 ${status} ${phrase || STATUS_CODES[status] || 'Unknown'}`];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${x}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** An upgrade request (exec, attach, portforward): splice the client and the kubelet once it switched protocols. */
export function proxyUpgrade(target: KubeletTarget, creds: KubeletCredentials, req: IncomingMessage, client: Duplex, head: Buffer): void {
  const kr = kubeletRequest(target, creds, req.method ?? 'POST', forwardHeaders(req, true));
  client.on('error', () => kr.destroy());
  kr.on('upgrade', (kres, ksock, khead) => {
    kr.setTimeout(0);
    client.write(rawResponse(101, 'Switching Protocols', kres.headers));
    if (khead.length) client.write(khead);
    if (head.length) ksock.write(head);
    ksock.pipe(client);
    client.pipe(ksock);
    const end = () => {
      ksock.destroy();
      client.destroy();
    };
    ksock.on('close', end);
    client.on('close', end);
    ksock.on('error', end);
  });
  kr.on('response', (kres) => {
    // the kubelet refused the upgrade: hand its answer back as it is
    kr.setTimeout(0);
    const chunks: Buffer[] = [];
    kres.on('data', (c: Buffer) => chunks.push(c));
    kres.on('end', () => {
      const body = Buffer.concat(chunks);
      client.end(
        Buffer.concat([
          Buffer.from(
            rawResponse(kres.statusCode ?? 502, kres.statusMessage ?? '', {
              'Content-Type': kres.headers['content-type'],
              'Content-Length': String(body.length),
              Connection: 'close',
            }),
          ),
          body,
        ]),
      );
    });
  });
  kr.on('error', (e) => writeStatus(client, unreachable(target, e)));
  kr.end();
}

export interface KubeletUpgrade {
  socket: Duplex;
  head: Buffer;
  headers: IncomingMessage['headers'];
}

/**
 * Dials the kubelet with an upgrade request of our own (the API server's half of a translated
 * stream). A refusal rejects with the kubelet's Status when it sent one.
 */
export function dialKubeletUpgrade(target: KubeletTarget, creds: KubeletCredentials, headers: Record<string, string>): Promise<KubeletUpgrade> {
  return new Promise((resolve, reject) => {
    const kr = kubeletRequest(target, creds, 'POST', { ...headers, connection: 'Upgrade' });
    kr.on('upgrade', (kres, socket, head) => {
      kr.setTimeout(0);
      resolve({ socket, head, headers: kres.headers });
    });
    kr.on('response', (kres) => {
      kr.setTimeout(0);
      refuse(kres, target, reject);
    });
    kr.on('error', (e) => reject(unreachable(target, e)));
    kr.end();
  });
}

/** The kubelet's refusal (a plain answer where a stream was asked for) as the caller's error. */
function refuse(kres: IncomingMessage, target: KubeletTarget, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  kres.on('data', (c: Buffer) => chunks.push(c));
  kres.on('end', () => reject(statusOf(kres.statusCode ?? 502, Buffer.concat(chunks))));
  kres.on('error', (e) => reject(unreachable(target, e)));
}

/** GET on the kubelet (pods/log for a WebSocket client): its streaming answer once it said 200, else its refusal. */
export function kubeletGet(target: KubeletTarget, creds: KubeletCredentials, agent: https.Agent | false = false): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const kr = kubeletRequest(target, creds, 'GET', {}, agent);
    kr.on('response', (kres) => {
      kr.setTimeout(0);
      if (kres.statusCode === 200) return resolve(kres);
      refuse(kres, target, reject);
    });
    kr.on('error', (e) => reject(unreachable(target, e)));
    kr.end();
  });
}

/** The kubelet's refusal as an ApiError: its Status when the body is one, else the text. */
function statusOf(code: number, body: Buffer): ApiError {
  try {
    const s = JSON.parse(body.toString('utf8')) as { kind?: string; reason?: string; message?: string; code?: number };
    if (s.kind === 'Status') return new ApiError(s.code || code, s.reason || 'InternalError', s.message ?? '');
  } catch {
    // not JSON: the text itself is the message
  }
  return new ApiError(code, code === 404 ? 'NotFound' : 'InternalError', body.toString('utf8').trim() || `the kubelet answered ${code}`);
}

/** A Status answer on a raw socket (upgrade requests have no ServerResponse). */
export function writeStatus(client: Duplex, err: ApiError): void {
  if (client.destroyed) return;
  const body = statusBody(err.toStatus());
  client.end(
    rawResponse(err.code, STATUS_CODES[err.code] ?? '', {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    }) + body,
  );
}
