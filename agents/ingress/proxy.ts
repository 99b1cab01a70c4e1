// The ingress data path: an HTTP and an HTTPS server (certificates chosen by SNI) that send each
// request to an endpoint of the backend the current route table picks, round robin, over kept-alive
// upstream connections. Routes and certificates are swapped in as a whole (setRoutes), so a change
// never closes a listening socket or a client's connection: the next request takes the new route.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
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

  setRoutes(s: Snapshot): void { this.snap = s; }

  async listen(o: { address: string; httpPort: number; httpsPort: number }): Promise<{ http: number; https: number }> {
    const plain = http.createServer((req, res) => this.handle(req, res, 'http'));
    const secure = https.createServer({
      SNICallback: (name, cb) => {
        const secret = certFor(this.snap.routes, name);
        const ctx = secret ? this.snap.contexts.get(secret) : undefined;
        // no certificate for the name: the first one we have (ingress-nginx serves a default certificate)
        const any = ctx ?? this.snap.contexts.values().next().value;
        if (any) cb(null, any);
        else cb(new Error(`no TLS certificate for "${name}"`));
      },
    }, (req, res) => this.handle(req, res, 'https'));
    secure.on('tlsClientError', (err) => this.log.debug({ err: String(err) }, 'ingress TLS handshake failed'));
    this.servers = [plain, secure];
    const ports = await Promise.all([[plain, o.httpPort], [secure, o.httpsPort]].map(([s, port]) => new Promise<number>((res, rej) => {
      const srv = s as http.Server;
      srv.once('error', rej);
      srv.listen(port as number, o.address, () => res((srv.address() as AddressInfo).port));
    })));
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

  private handle(req: http.IncomingMessage, res: http.ServerResponse, proto: 'http' | 'https'): void {
    const path = (req.url ?? '/').split('?')[0];
    const backend = match(this.snap.routes, req.headers.host ?? '', path);
    if (!backend) return void reply(res, 404, 'default backend - 404');
    const ep = this.pick(backend);
    if (!ep) return void reply(res, 503, `no ready endpoints for service ${backend.namespace}/${backend.service}`);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.includes(k)) headers[k] = v;
    const client = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${req.headers['x-forwarded-for']}, ${client}` : client;
    headers['x-forwarded-proto'] = proto;
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const up = http.request({ host: ep.ip, port: ep.port, method: req.method, path: req.url, headers, agent: this.agent, timeout: 60_000 }, (ur) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(ur.headers)) if (!HOP_BY_HOP.includes(k)) out[k] = v;
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
    });
    up.on('timeout', () => up.destroy(new Error('upstream timed out')));
    up.on('error', (err) => {
      this.log.warn({ backend: `${backend.namespace}/${backend.service}`, endpoint: `${ep.ip}:${ep.port}`, err: String(err) }, 'ingress upstream failed');
      if (!res.headersSent) reply(res, 502, 'bad gateway');
      else res.destroy();
    });
    req.pipe(up);
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
  }
}

function reply(res: http.ServerResponse, code: number, text: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
