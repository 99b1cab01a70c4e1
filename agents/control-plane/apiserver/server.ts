// The HTTPS transport: TLS with client-certificate authentication against the cluster CA (CN =
// user, O = groups), body limits, and streaming of watch responses with chunked encoding.
// Everything else is ApiHandler's job.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../api/log.ts';
import { ApiError, logLevelOf, type Status, statusBody, tooLarge, unauthorized } from './errors.ts';
import { MAX_BODY_BYTES } from './body.ts';
import type { ApiHandler, ApiResponse, UserInfo } from './handler.ts';
import { type KubeletCredentials, kubeletGet, proxyPlain, proxyUpgrade, writeStatus } from './kubelet-proxy.ts';
import { proxyToBackend } from './backend-proxy.ts';
import { proxyAggregated } from './aggregator/proxy.ts';
import { parseResourcePath, queryBool, requestURL } from './request.ts';
import { translateRemoteCommand, V5_PROTOCOL } from './stream-translator.ts';
import { tunnelPortForward } from './portforward-tunnel.ts';
import { TUNNEL_PROTOCOL, TUNNEL_TOKEN, isWebSocket, upgradeRoute } from './upgrade-route.ts';
import { LOG_PROTOCOLS, logProtocol, streamLog } from './log-websocket.ts';
import { bodyPieces } from './output.ts';
import { drained, writeWatch } from './watch-write.ts';
import { attributesFor } from '../auth/attributes.ts';
import { isConnectSubresource } from './admission/connect.ts';
import { checkInterval, DEFAULT_TIMEOUTS, headersTooLarge, requestTimedOut, type ServerTimeouts } from './timeouts.ts';

const streamOptions = (q: URLSearchParams) => ({
  stdin: queryBool(q, 'stdin') ?? false,
  stdout: queryBool(q, 'stdout') ?? false,
  stderr: queryBool(q, 'stderr') ?? false,
  tty: queryBool(q, 'tty') ?? false,
});

export interface ServeOptions {
  handler: ApiHandler;
  host: string;
  port: number;
  key: string;
  cert: string;
  ca: string;
  log: Logger;
  /** the client certificate presented to kubelets (logs, exec, attach, port-forward) */
  kubeletClient?: KubeletCredentials;
  /** routes served before authentication (the join endpoints); true when it answered the request */
  preAuth?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** bearer tokens (--token-auth-file, service-account tokens); client certificates are always accepted */
  tokens?: { authenticate(header: string | undefined): UserInfo | undefined | Promise<UserInfo | undefined> };
  /** upstream's limits by default (timeouts.ts); tests shorten them */
  timeouts?: Partial<ServerTimeouts>;
}

/** Go's http.DefaultMaxHeaderBytes, as kube-apiserver: exec commands travel in the query string. */
export const MAX_HEADER_BYTES = 1 << 20;
/** How long a connection answered with an error Status may stay open for its client to read it. */
const ERROR_LINGER_MS = 2000;

const ANONYMOUS_OK = /^\/(healthz|livez|readyz)(\/.*)?$/;

/** The user a verified client certificate names; undefined for anonymous requests. */
export function userFromSocket(sock: TLSSocket): UserInfo | undefined {
  if (!sock.authorized) return undefined;
  const cert = sock.getPeerCertificate();
  const cn = cert?.subject?.CN;
  if (!cn) return undefined;
  const o = cert.subject.O as string | string[] | undefined;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name: Array.isArray(cn) ? cn[0] : cn, groups: [...groups, 'system:authenticated'] };
}

/** Client certificate first, then a bearer token, as upstream's union authenticator tries them. */
export async function authenticate(req: IncomingMessage, tokens?: ServeOptions['tokens']): Promise<UserInfo | undefined> {
  return userFromSocket(req.socket as TLSSocket) ?? (await tokens?.authenticate(req.headers.authorization));
}

const isStatus = (b: unknown): b is Status => typeof b === 'object' && b !== null && (b as { kind?: unknown }).kind === 'Status';

function sendStatus(res: ServerResponse, err: ApiError): void {
  const body = statusBody(err.toStatus());
  res.writeHead(err.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

/** The body, within `limit` bytes and `timeoutMs` (a body trickling in byte by byte is a 504 then). */
function readBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.pause();
      reject(requestTimedOut());
    }, timeoutMs);
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        clearTimeout(timer);
        reject(tooLarge(limit));
        req.pause();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * A list body comes as JSON text in pieces (output.ts bodyPieces): a short one goes out whole with
 * a Content-Length, a long one piece by piece with a turn of the event loop in between, so that
 * encoding and sending thousands of objects does not stall every other request.
 */
/**
 * Warning header values as upstream writes them (code 299, agent "-", the text quoted), the text's
 * UTF-8 bytes sent as they are: node refuses header strings beyond latin1, so they go as latin1
 * characters of the same bytes (a warning naming an unknown field "Ā" was a 500). The body that
 * follows must then be a Buffer: node sends headers glued to a string body in the body's encoding.
 */
const warningHeader = (warnings: string[]) => warnings.map((w) => Buffer.from(`299 - ${JSON.stringify(w)}`, 'utf8').toString('latin1'));
const withWarnings = (body: string, warnings: string[] | undefined) => (warnings?.length ? Buffer.from(body) : body);

async function writePieces(res: ServerResponse, status: number, pieces: Iterable<string>, warnings: string[] | undefined, head: boolean): Promise<void> {
  const headers: Record<string, string | string[] | number> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  if (warnings?.length) headers['Warning'] = warningHeader(warnings);
  const it = pieces[Symbol.iterator]();
  let first = '';
  let n = it.next();
  while (!n.done && first.length < 64 * 1024) {
    first += n.value;
    n = it.next();
  }
  if (n.done) {
    res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(first) });
    return void res.end(head ? undefined : withWarnings(first, warnings));
  }
  res.writeHead(status, headers);
  if (head) return void res.end();
  res.write(withWarnings(first, warnings));
  for (; !n.done && !res.destroyed; n = it.next()) {
    const ok = res.write(n.value);
    if (!ok && !res.destroyed) await drained(res);
    else await new Promise((r) => setImmediate(r));
  }
  res.end();
}

async function writeResponse(
  res: ServerResponse,
  r: Exclude<ApiResponse, { kind: 'proxy' | 'backend' | 'redirect' | 'aggregated' }>,
  head: boolean,
): Promise<void> {
  if (r.kind === 'raw') {
    res.writeHead(r.status, { 'Content-Type': r.contentType, 'Content-Length': Buffer.byteLength(r.text), 'Cache-Control': 'no-cache, private' });
    res.end(head ? undefined : r.text);
    return;
  }
  const pieces = r.kind === 'object' ? bodyPieces(r.body) : undefined;
  if (r.kind === 'object' && pieces) return writePieces(res, r.status, pieces, r.warnings, head);
  if (r.kind === 'object') {
    const body = isStatus(r.body) ? statusBody(r.body) : JSON.stringify(r.body);
    const headers: Record<string, string | string[] | number> = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache, private',
    };
    if (r.warnings?.length) headers['Warning'] = warningHeader(r.warnings);
    res.writeHead(r.status, headers);
    res.end(head ? undefined : withWarnings(body, r.warnings));
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  await writeWatch(res, r.frames);
}

export async function serve(o: ServeOptions): Promise<{ server: https.Server; port: number; close(): Promise<void> }> {
  const t: ServerTimeouts = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
  const server = https.createServer({
    key: o.key,
    cert: o.cert,
    ca: o.ca,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    maxHeaderSize: MAX_HEADER_BYTES,
    handshakeTimeout: t.readHeaderMs,
    connectionsCheckingInterval: checkInterval(t),
  });
  server.keepAliveTimeout = t.idleMs;
  server.headersTimeout = t.readHeaderMs;
  // Node's limit on receiving a whole request backs up readBody's (routes served before
  // authentication read their own bodies); a request without a body is complete with its
  // headers, so this never cuts a watch, a streamed list or an upgraded connection
  server.requestTimeout = t.readHeaderMs + t.requestMs;
  // sockets already answered with an error Status: the parser errs again on each later chunk of
  // the same request, and destroying the socket then would drop the answer not yet flushed (1 run
  // in 70 of 1.2 MB headers saw a bare close). Such a socket closes when the client closes its
  // side, or after ERROR_LINGER_MS.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (answered.has(socket)) return;
    // TLS failures (a handshake not done within readHeaderMs ...) come here too: no HTTP to speak
    const http = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_');
    if (!http || !socket.writable) return void socket.destroy();
    answered.add(socket);
    const linger = setTimeout(() => socket.destroy(), ERROR_LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
    // Node would answer a bare status line; clients get a Status, then the connection closes
    if (err.code === 'HPE_HEADER_OVERFLOW') return writeStatus(socket, headersTooLarge());
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
      return writeStatus(socket, new ApiError(408, 'Timeout', 'request headers or body were not received in time', {}));
    writeStatus(socket, new ApiError(400, 'BadRequest', 'malformed HTTP request', {}));
  });
  const sockets = new Set<import('node:stream').Duplex>();
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (o.preAuth?.(req, res)) return;
    const started = Date.now();
    const url = requestURL(req.url);
    let user: UserInfo | undefined;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const done = (status: number) => o.log.debug({ method: req.method, path: url.pathname, status, ms: Date.now() - started, user: user?.name }, 'request');
    void (async () => {
      user = await authenticate(req, o.tokens);
      if (!user && !ANONYMOUS_OK.test(url.pathname)) {
        sendStatus(res, unauthorized());
        return done(401);
      }
      let body: Buffer | undefined;
      if (req.method !== 'GET' && req.method !== 'HEAD') body = await readBody(req, MAX_BODY_BYTES, t.requestMs);
      const r = await o.handler.handle({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers as Record<string, string | undefined>,
        body,
        user: user ?? { name: 'system:anonymous', groups: ['system:unauthenticated'] },
        signal: abort.signal,
      });
      if (r.kind === 'proxy') {
        if (!o.kubeletClient) throw new ApiError(503, 'ServiceUnavailable', 'no kubelet client credentials configured');
        await proxyPlain(r.target, o.kubeletClient, req, res);
        return done(res.statusCode);
      }
      if (r.kind === 'redirect') {
        res.writeHead(301, { Location: r.location, 'Content-Length': 0 });
        res.end();
        return done(301);
      }
      if (r.kind === 'aggregated') {
        await proxyAggregated(r.target, req, res, body);
        return done(res.statusCode);
      }
      if (r.kind === 'backend') {
        await proxyToBackend(r.target, o.kubeletClient, req, res, body);
        return done(res.statusCode);
      }
      await writeResponse(res, r, req.method === 'HEAD');
      done(r.kind === 'watch' ? 200 : r.status);
    })().catch((e) => {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error)?.message ?? e));
      const level = logLevelOf(err);
      if (level) o.log[level]({ err: e, path: url.pathname }, 'request failed');
      if (!res.headersSent) {
        // the rest of the body is not read: this connection cannot carry another request
        if (err.code === 413 || err.code === 504) res.setHeader('Connection', 'close');
        sendStatus(res, err);
      } else res.destroy();
      done(err.code);
    });
  });
  // ends the WebSocket of translated (v5) and tunnelled (port-forward) streams; upgradeRoute chose the path
  const webSockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => [V5_PROTOCOL, ...LOG_PROTOCOLS].find((p) => offered.has(p)) ?? (offered.has(TUNNEL_TOKEN) ? TUNNEL_PROTOCOL : false),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const url = requestURL(req.url);
      const user = await authenticate(req, o.tokens);
      if (!user) return writeStatus(socket, unauthorized());
      const rr = parseResourcePath(req.method ?? 'GET', url.pathname, url.searchParams);
      const sub = rr?.subresource ?? '';
      if (
        !rr ||
        rr.group !== '' ||
        rr.resource !== 'pods' ||
        !rr.namespace ||
        !rr.name ||
        !(isConnectSubresource(sub) || (sub === 'log' && isWebSocket(req.headers)))
      )
        return writeStatus(socket, new ApiError(400, 'BadRequest', `upgrade is not supported on ${url.pathname}`));
      await o.handler.authorize(attributesFor(req.method ?? 'GET', url.pathname, url.searchParams, user));
      // the query the stream goes on with, as the admission webhooks left its options
      const query = isConnectSubresource(sub) ? await o.handler.admitConnect(user, sub, rr.namespace, rr.name, url.searchParams) : url.searchParams;
      if (!o.kubeletClient) return writeStatus(socket, new ApiError(503, 'ServiceUnavailable', 'no kubelet client credentials configured'));
      const target = await o.handler.kubeletTargetFor(rr.namespace, rr.name, rr.subresource!, query);
      if (sub === 'log') {
        const protocol = logProtocol(req.headers);
        if (protocol === undefined) return void socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        const log = await kubeletGet(target, o.kubeletClient);
        return webSockets.handleUpgrade(req, socket, head, (ws) => (ws.protocol === protocol ? streamLog(ws, log) : (log.destroy(), ws.close(1002))));
      }
      const route = upgradeRoute(rr.subresource!, req.headers);
      o.log.debug({ path: url.pathname, user: user.name, kubelet: `${target.host}:${target.port}`, route }, 'upgrade');
      if (route === 'proxy') return proxyUpgrade(target, o.kubeletClient, req, socket, head);
      const creds = o.kubeletClient;
      const protocol = route === 'translate' ? V5_PROTOCOL : TUNNEL_PROTOCOL;
      // "/" is not a token character, so ws would refuse the tunnel's subprotocol name: it is offered under a token here
      if (route === 'tunnel') req.headers['sec-websocket-protocol'] = TUNNEL_TOKEN;
      webSockets.handleUpgrade(req, socket, head, (ws) => {
        if (ws.protocol !== protocol) return ws.close(1002);
        void (route === 'translate' ? translateRemoteCommand(ws, target, creds, streamOptions(query)) : tunnelPortForward(ws, target, creds));
      });
    })().catch((e) => writeStatus(socket, e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error)?.message ?? e))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
