// The kubelet's HTTPS API on :10250, the one the API server proxies `kubectl logs`, `exec`,
// `attach` and `port-forward` to: /healthz, /pods, /metrics, /metrics/resource, /metrics/cadvisor, /stats/summary,
// /containerLogs, /exec, /attach and /portForward, at upstream's paths with upstream's query parameters. Every request needs a client
// certificate signed by the cluster CA (401 otherwise) whose user may use the kubelet (403
// otherwise); errors are metav1 Status JSON. Streams are relayed to the runtime's own server.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { V1Pod } from '@kubernetes/client-node';
import { logger } from '../../api/log.ts';
import { authorize, requestAttributes, userFromSubject, type UserInfo } from './auth.ts';
import { serveContainerLogs, serveSimple, streamTarget, type HandlerContext, type ServerCri } from './handlers.ts';
import { createMetrics } from './metrics.ts';
import { isStreamRoute, parseRoute, type Route } from './params.ts';
import { relayUpgrade } from './relay.ts';
import { ensureServingCert, type ServingCertIssuer } from './serving-cert.ts';
import { badRequest, HttpError, rawStatusResponse, toStatus } from './status.ts';

export type { ServerCri } from './handlers.ts';

export interface KubeletServerOptions {
  /** 0.0.0.0 in production */
  bindAddress: string;
  /** 10250 in production; 0 picks a free port (see KubeletServer.port) */
  port: number;
  /** where the self-signed serving certificate kubelet.crt/kubelet.key is created on first start */
  tlsDir: string;
  /** PEM CA bundle that client certificates must chain to (the cluster CA) */
  clientCA: Buffer;
  nodeName: string;
  nodeIP: string;
  cri: ServerCri;
  /** root of the pod log directories; container logs are only read from below it */
  podLogDir: string;
  /** the kubelet's current pods (from its informer) */
  pods(): V1Pod[];
  /** a serving certificate signed by the cluster CA (absent, or while it fails: self-signed) */
  servingCertIssuer?: ServingCertIssuer;
  /** how often to ask again while the control plane has not given one (default 30 s) */
  servingCertRetryMs?: number;
  /** the source of /stats/summary, /metrics/resource and /metrics/cadvisor */
  stats?: HandlerContext['stats'];
}

export interface KubeletServer {
  /** the port listened on (useful with port 0) */
  port: number;
  /** the serving certificate (PEM file), for callers that pin it */
  servingCertFile: string;
  close(): Promise<void>;
}

const log = logger('kubelet-server');
/**
 * How long an idle client connection stays open: past the control plane's 15 s metrics scrapes, so
 * each reuses its TLS connection (Node's 5 s default closed it between two, and each scrape then
 * paid a new handshake on both ends).
 */
export const IDLE_CONNECTION_MS = 60_000;
const SERVING_CERT_RETRY_MS = 30_000;

function authenticate(socket: TLSSocket): UserInfo {
  // the handshake accepted any certificate (or none) so that refusals get a 401, not a TLS alert
  if (!socket.authorized) throw new HttpError(401, 'Unauthorized');
  const user = userFromSubject(socket.getPeerCertificate()?.subject as { CN?: string; O?: string | string[] } | undefined);
  if (!user) throw new HttpError(401, 'Unauthorized');
  return user;
}

function checkAccess(req: IncomingMessage, pathname: string, nodeName: string): UserInfo {
  const user = authenticate(req.socket as TLSSocket);
  const decision = authorize(user, requestAttributes(req.method ?? 'GET', pathname, nodeName));
  if (!decision.allowed) throw new HttpError(403, decision.reason);
  return user;
}

const notFound = () => new HttpError(404, 'the server could not find the requested resource');
const metricsPath = (route: Route | undefined) => route?.kind ?? 'other';

export async function startKubeletServer(o: KubeletServerOptions): Promise<KubeletServer> {
  const cert = await ensureServingCert(o.tlsDir, o.nodeName, o.nodeIP, o.servingCertIssuer, (err) =>
    log.warn(
      { err: String(err) },
      'no serving certificate from the control plane: using a self-signed one, which the API server will not accept for logs and exec',
    ),
  );
  if (cert.created)
    log.info({ file: cert.certFile }, cert.selfSigned ? 'created a self-signed serving certificate' : 'got a serving certificate signed by the cluster CA');
  const metrics = createMetrics(o.nodeName);
  const closing = new AbortController();
  const ctx: HandlerContext = { cri: o.cri, pods: o.pods, podLogDir: o.podLogDir, metrics, stats: o.stats, closing: closing.signal };
  const upgraded = new Set<Duplex>();

  const server: Server = createServer({
    key: cert.keyPem,
    cert: cert.certPem,
    ca: o.clientCA,
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ALPNProtocols: ['http/1.1'],
    // exec commands travel in the query string: allow Go's 1 MiB default, not Node's 16 KiB
    maxHeaderSize: 1 << 20,
    keepAliveTimeout: IDLE_CONNECTION_MS,
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = parseRoute(url.pathname);
    metrics.request(req.method ?? '', metricsPath(route), route ? isStreamRoute(route) : false);
    (async () => {
      checkAccess(req, url.pathname, o.nodeName);
      if (!route) throw notFound();
      if (isStreamRoute(route)) throw badRequest('Upgrade request required');
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `method ${req.method} is not allowed on ${url.pathname}`);
      if (route.kind === 'containerLogs') await serveContainerLogs(ctx, route, url.searchParams, res);
      else await serveSimple(ctx, route, res, url.searchParams);
    })().catch((err: unknown) => {
      const status = toStatus(err);
      if (status.code >= 500) log.warn({ path: url.pathname, err: String(err) }, 'request failed');
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify(status);
      res.writeHead(status.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = parseRoute(url.pathname);
    metrics.request(req.method ?? '', metricsPath(route), true);
    (async () => {
      const user = checkAccess(req, url.pathname, o.nodeName);
      if (!route) throw notFound();
      if (!isStreamRoute(route)) throw badRequest(`${url.pathname} does not support an upgrade`);
      const target = await streamTarget(ctx, route, req, url.searchParams);
      log.info({ user: user.name, kind: route.kind, pod: `${route.namespace}/${route.pod}` }, 'relaying stream to the runtime');
      await relayUpgrade(socket, head, { method: req.method ?? 'GET', rawHeaders: req.rawHeaders, search: url.search }, target);
    })().catch((err: unknown) => {
      if (toStatus(err).code >= 500) log.warn({ path: url.pathname, err: String(err) }, 'stream request failed');
      if (socket.writable) socket.end(rawStatusResponse(err));
      else socket.destroy();
    });
  });

  server.on('tlsClientError', (err) => log.debug({ err: String(err) }, 'TLS handshake failed'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  log.info({ address: o.bindAddress, port }, 'kubelet server listening');
  // the control plane was not reachable at start: keep asking, and swap the certificate in
  let retry: NodeJS.Timeout | undefined;
  if (cert.selfSigned && o.servingCertIssuer) {
    const issuer = o.servingCertIssuer;
    let busy = false;
    retry = setInterval(() => {
      if (busy) return;
      busy = true;
      void ensureServingCert(o.tlsDir, o.nodeName, o.nodeIP, issuer, () => undefined)
        .then((next) => {
          if (next.selfSigned) return;
          server.setSecureContext({ key: next.keyPem, cert: next.certPem, ca: o.clientCA, minVersion: 'TLSv1.2' });
          clearInterval(retry);
          log.info({ file: next.certFile }, 'got a serving certificate signed by the cluster CA');
        })
        .catch((err: unknown) => log.warn({ err: String(err) }, 'serving certificate retry failed'))
        .finally(() => (busy = false));
    }, o.servingCertRetryMs ?? SERVING_CERT_RETRY_MS);
    retry.unref();
  }

  return {
    port,
    servingCertFile: cert.certFile,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        clearInterval(retry);
        for (const s of upgraded) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
