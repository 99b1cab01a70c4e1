// The ingress data path: an HTTP and an HTTPS server (certificates chosen by SNI) that send each
// request to an endpoint of the backend the current route table picks, round robin, over kept-alive
// upstream connections. Routes and certificates are swapped in as a whole (setRoutes), so a change
// never closes a listening socket or a client's connection: the next request takes the new route.
// An HTTP/1.1 Upgrade (WebSocket) is routed the same way and, once the backend answers 101, the two
// connections are spliced byte for byte until either side closes.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { Logger } from '../api/log.ts';
import { type Backend, certFor, match, type RouteTable } from './routes.ts';

export interface Snapshot {
  routes: RouteTable;
  /** the ready endpoints of a backend */
  endpoints(b: Backend): { ip: string; port: number }[];
  /** "<ns>/<secret>" -> a secure context, for the Secrets that exist and hold a usable pair */
  contexts: Map<string, tls.SecureContext>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

export class IngressProxy {
  private snap: Snapshot = { routes: { hosts: new Map(), tls: new Map(), problems: [] }, endpoints: () => [], contexts: new Map() };
  private readonly next = new Map<string, number>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private servers: http.Server[] = [];

  constructor(private readonly log: Logger) {}

  setRoutes(s: Snapshot): void {
    this.snap = s;
  }

  async listen(o: { address: string; httpPort: number; httpsPort: number }): Promise<{ http: number; https: number }> {
    const plain = http.createServer((req, res) => this.handle(req, res, 'http'));
    const secure = https.createServer(
      {
        SNICallback: (name, cb) => {
          const secret = certFor(this.snap.routes, name);
          const ctx = secret ? this.snap.contexts.get(secret) : undefined;
          // no certificate for the name: the first one we have (ingress-nginx serves a default certificate)
          const any = ctx ?? this.snap.contexts.values().next().value;
          if (any) cb(null, any);
          else cb(new Error(`no TLS certificate for "${name}"`));
        },
      },
      (req, res) => this.handle(req, res, 'https'),
    );
    for (const [srv, proto] of [
      [plain, 'http'],
      [secure, 'https'],
    ] as const)
      srv.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head, proto));
    secure.on('tlsClientError', (err) => this.log.debug({ err: String(err) }, 'ingress TLS handshake failed'));
    this.servers = [plain, secure];
    const ports = await Promise.all(
      [
        [plain, o.httpPort],
        [secure, o.httpsPort],
      ].map(
        ([s, port]) =>
          new Promise<number>((res, rej) => {
            const srv = s as http.Server;
            srv.once('error', rej);
            srv.listen(port as number, o.address, () => res((srv.address() as AddressInfo).port));
          }),
      ),
    );
    return { http: ports[0], https: ports[1] };
  }

  private pick(b: Backend): { ip: string; port: number } | undefined {
    const eps = this.snap.endpoints(b);
    if (!eps.length) return undefined;
    const k = `${b.namespace}/${b.service}:${b.port}`;
    const i = (this.next.get(k) ?? 0) % eps.length;
    this.next.set(k, i + 1);
    return eps[i];
  }

  /** The route's endpoint for a request, or the status and text to answer instead. */
  private route(req: http.IncomingMessage): { backend: Backend; ep: { ip: string; port: number } } | { code: number; text: string } {
    const path = (req.url ?? '/').split('?')[0];
    const backend = match(this.snap.routes, req.headers.host ?? '', path);
    if (!backend) return { code: 404, text: 'default backend - 404' };
    const ep = this.pick(backend);
    if (!ep) return { code: 503, text: `no ready endpoints for service ${backend.namespace}/${backend.service}` };
    return { backend, ep };
  }

  /** The request's end-to-end headers plus the X-Forwarded ones. */
  private static forwarded(req: http.IncomingMessage, proto: 'http' | 'https'): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.includes(k)) headers[k] = v;
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = proto;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    return headers;
  }

  private upstreamFailed(backend: Backend, ep: { ip: string; port: number }, err: Error): void {
    this.log.warn({ backend: `${backend.namespace}/${backend.service}`, endpoint: `${ep.ip}:${ep.port}`, err: String(err) }, 'ingress upstream failed');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, proto: 'http' | 'https'): void {
    const r = this.route(req);
    if ('code' in r) return void reply(res, r.code, r.text);
    const { backend, ep } = r;
    const up = http.request(
      { host: ep.ip, port: ep.port, method: req.method, path: req.url, headers: IngressProxy.forwarded(req, proto), agent: this.agent, timeout: 60_000 },
      (ur) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(ur.headers)) if (!HOP_BY_HOP.includes(k)) out[k] = v;
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(res);
      },
    );
    up.on('timeout', () => up.destroy(new Error('upstream timed out')));
    up.on('error', (err) => {
      this.upstreamFailed(backend, ep, err);
      if (!res.headersSent) reply(res, 502, 'bad gateway');
      else res.destroy();
    });
    req.pipe(up);
  }

  /** An Upgrade request: sent on its own connection with its Connection/Upgrade headers; a 101 splices the two sockets. */
  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, proto: 'http' | 'https'): void {
    socket.on('error', () => socket.destroy());
    const r = this.route(req);
    if ('code' in r) return void rawReply(socket, r.code, r.text);
    const { backend, ep } = r;
    const headers = { ...IngressProxy.forwarded(req, proto), connection: 'Upgrade', upgrade: req.headers.upgrade ?? '' };
    const up = http.request({ host: ep.ip, port: ep.port, method: req.method, path: req.url, headers, agent: false, timeout: 60_000 });
    up.on('upgrade', (ur: http.IncomingMessage, upSocket: Socket, upHead: Buffer) => {
      up.setTimeout(0);
      upSocket.setTimeout(0);
      const lines = [`HTTP/1.1 ${ur.statusCode ?? 101} ${ur.statusMessage ?? 'Switching Protocols'}`];
      for (let k = 0; k + 1 < ur.rawHeaders.length; k += 2) lines.push(`${ur.rawHeaders[k]}: ${ur.rawHeaders[k + 1]}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      upSocket.on('close', () => socket.destroy());
      upSocket.pipe(socket).pipe(upSocket);
    });
    // the backend refused the upgrade: its answer goes back as it is, and the connection ends
    up.on('response', (ur) => {
      const lines = [`HTTP/1.1 ${ur.statusCode ?? 502} ${ur.statusMessage ?? ''}`];
      for (const [k, v] of Object.entries(ur.headers)) if (!HOP_BY_HOP.includes(k)) lines.push(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
      socket.write(`${lines.join('\r\n')}\r\nconnection: close\r\n\r\n`);
      ur.pipe(socket);
    });
    up.on('timeout', () => up.destroy(new Error('upstream timed out')));
    up.on('error', (err) => {
      this.upstreamFailed(backend, ep, err);
      rawReply(socket, 502, 'bad gateway');
    });
    up.end();
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
  }
}

/** An answer written straight to a socket an upgrade request came on, which then closes. */
function rawReply(socket: Duplex, code: number, text: string): void {
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function reply(res: http.ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
