// A throwaway aggregated API server for the aggregation tests (the leading underscore keeps ava
// from running it), in the part of upstream's sample-apiserver the aggregator needs: HTTPS with its
// own CA and a serving certificate for 127.0.0.1 and the given DNS names; every request must carry
// a client certificate of the front-proxy CA with an allowed name (as the requestheader
// authenticator checks it), and the user comes from X-Remote-User / X-Remote-Group /
// X-Remote-Extra-*; it serves discovery for wardle.example.com/v1alpha1 and an in-memory
// namespaced Flunder resource (list, get, create, delete, watch that streams events as they
// happen), and an OpenAPI v3 document. Each request's path and user are recorded.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';

export const GROUP = 'wardle.example.com';
export const VERSION = 'v1alpha1';
const BASE = `/apis/${GROUP}/${VERSION}`;

export interface Seen {
  method: string;
  path: string;
  user: string | undefined;
  groups: string[];
  extra: Record<string, string>;
}

export interface AggregatedServer {
  port: number;
  /** base64 PEM of the CA that signed the serving certificate */
  caBundle: string;
  seen: Seen[];
  /** adds a flunder as if another client had (watchers get ADDED) */
  add(ns: string, name: string): void;
  close(): Promise<void>;
}

interface Options {
  /** PEM of the front-proxy CA (requestheader-client-ca-file) */
  requestHeaderCA: string;
  /** requestheader-allowed-names */
  allowedNames: string[];
  dnsNames?: string[];
}

const resourceList = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: `${GROUP}/${VERSION}`,
  resources: [{ name: 'flunders', singularName: 'flunder', namespaced: true, kind: 'Flunder', verbs: ['create', 'delete', 'get', 'list', 'watch'] }],
};

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

export async function startAggregatedServer(o: Options): Promise<AggregatedServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-aggregated-ca-'));
  const ca = await loadOrCreateCA(dir, 'aggregated-test-ca');
  const cert = await issueCert(ca, { cn: 'aggregated', sans: ['127.0.0.1', ...(o.dnsNames ?? [])], usage: 'server' });
  const seen: Seen[] = [];
  const flunders = new Map<string, Record<string, any>>();
  const watchers = new Set<{ ns?: string; res: ServerResponse }>();
  let rv = 1;
  const event = (type: string, obj: Record<string, any>) => {
    for (const w of watchers) if (!w.ns || w.ns === obj.metadata.namespace) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
  };
  const store = (ns: string, name: string, body: Record<string, any> = {}) => {
    const obj = {
      ...body,
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Flunder',
      metadata: {
        ...body.metadata,
        name,
        namespace: ns,
        resourceVersion: String(++rv),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        uid: `uid-${rv}`,
      },
    };
    flunders.set(`${ns}/${name}`, obj);
    event('ADDED', obj);
    return obj;
  };
  const send = (res: ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const sock = req.socket as TLSSocket;
    const cn = sock.authorized ? String(sock.getPeerCertificate().subject?.CN ?? '') : undefined;
    if (cn === undefined || !o.allowedNames.includes(cn)) return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const url = new URL(req.url ?? '/', 'https://x');
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (k.startsWith('x-remote-extra-')) extra[decodeURIComponent(k.slice('x-remote-extra-'.length))] = String(v);
    const groups = ([] as string[]).concat(req.headers['x-remote-group'] ?? []).flatMap((g) => g.split(',').map((x) => x.trim()));
    seen.push({ method: req.method ?? '', path: url.pathname, user: req.headers['x-remote-user'] as string | undefined, groups, extra });
    if (url.pathname === BASE) return send(res, 200, resourceList);
    if (url.pathname === `/openapi/v3${BASE}`) return send(res, 200, { openapi: '3.0.0', info: { title: 'wardle', version: VERSION }, paths: {} });
    const m = new RegExp(`^${BASE}(?:/namespaces/([^/]+))?/flunders(?:/([^/]+))?$`).exec(url.pathname);
    if (!m) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const [, ns, name] = m;
    if (req.method === 'GET' && !name && url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      const w = { ns, res };
      watchers.add(w);
      for (const f of flunders.values()) if (!ns || f.metadata.namespace === ns) res.write(`${JSON.stringify({ type: 'ADDED', object: f })}\n`);
      res.on('close', () => watchers.delete(w));
      return;
    }
    if (req.method === 'GET' && !name) {
      const items = [...flunders.values()].filter((f) => !ns || f.metadata.namespace === ns);
      return send(res, 200, { kind: 'FlunderList', apiVersion: `${GROUP}/${VERSION}`, metadata: { resourceVersion: String(rv) }, items });
    }
    if (req.method === 'POST' && ns && !name) {
      const obj = JSON.parse(body) as Record<string, any>;
      if (flunders.has(`${ns}/${obj.metadata?.name}`))
        return send(res, 409, status(409, 'AlreadyExists', `flunders.${GROUP} "${obj.metadata?.name}" already exists`));
      return send(res, 201, store(ns, obj.metadata?.name, obj));
    }
    const key = `${ns}/${name}`;
    const cur = flunders.get(key);
    if (!cur) return send(res, 404, status(404, 'NotFound', `flunders.${GROUP} "${name}" not found`));
    if (req.method === 'GET') return send(res, 200, cur);
    if (req.method === 'DELETE') {
      flunders.delete(key);
      event('DELETED', cur);
      return send(res, 200, cur);
    }
    send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  };
  const server = https.createServer(
    { key: cert.keyPem, cert: cert.certPem, ca: o.requestHeaderCA, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => handle(req, res, body));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    seen,
    add: (ns, name) => void store(ns, name),
    async close() {
      for (const w of watchers) w.res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
