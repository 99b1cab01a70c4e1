// The server side of joining a node, mounted in front of the API server's client-certificate auth:
//   GET  /cacerts          the cluster CA (PEM), unauthenticated: the joining node checks its hash
//                          against the token's pin before it trusts anything from this server;
//   POST /v1-hawser/join   Authorization: Bearer <id>.<secret>, body {"nodeName": "..."}: a client
//                          certificate for system:node:<name> (group system:nodes) signed by the CA.
// A valid token is the trust boundary: a node that joins again under its old name (reinstalled, or
// its Node object deleted) gets fresh credentials for that name, as k3s lets a node reclaim its name.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../../api/log.ts';
import { issueCert, loadOrCreateCA } from '../pki.ts';
import { checkCredential, readTokens } from './store.ts';
import { parseCredential } from './token.ts';

export const CACERTS_PATH = '/cacerts';
export const JOIN_PATH = '/v1-hawser/join';
const MAX_BODY = 16 * 1024;
// RFC 1123 subdomain, as Node names must be
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface JoinResponse {
  apiVersion: 'hawser.io/v1';
  kind: 'JoinResponse';
  nodeName: string;
  /** the API server URL as the control plane advertises it */
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) { super(message); }
}

function send(res: ServerResponse, code: number, body: string, type: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function sendStatus(res: ServerResponse, e: HttpError): void {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.reason, code: e.code };
  if (e.code === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="hawser join"');
  send(res, e.code, JSON.stringify(status), 'application/json');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new HttpError(413, 'RequestEntityTooLarge', `join request over ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Records who joined under which name with which token: the audit trail of name reclaims. */
function recordJoin(dataDir: string, nodeName: string, tokenId: string): boolean {
  const f = join(dataDir, 'joined-nodes.json');
  const doc = existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, { tokenId: string; joinedAt: string; joins: number }>) : {};
  const again = nodeName in doc;
  doc[nodeName] = { tokenId, joinedAt: new Date().toISOString(), joins: (doc[nodeName]?.joins ?? 0) + 1 };
  writeFileSync(`${f}.tmp`, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
  return again;
}

export function joinHandler(o: { dataDir: string; serverURL: string }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const log = logger('join');
  let ca: ReturnType<typeof loadOrCreateCA> | undefined;
  const getCA = () => (ca ??= loadOrCreateCA(join(o.dataDir, 'tls')));

  async function handleJoin(req: IncomingMessage): Promise<JoinResponse> {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const cred = m ? parseCredential(m[1]) : undefined;
    if (!cred) throw new HttpError(401, 'Unauthorized', 'a join needs "Authorization: Bearer <id>.<secret>" from `hawser token create`');
    const check = checkCredential(readTokens(o.dataDir), cred.id, cred.secret);
    if (!check.ok) {
      throw new HttpError(401, 'Unauthorized', check.reason === 'expired' ? `join token ${cred.id} has expired: create a new one with \`hawser token create\`` : 'unknown join token');
    }
    let body: { nodeName?: unknown };
    try { body = JSON.parse((await readBody(req)).toString('utf8') || '{}'); } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(400, 'BadRequest', 'join request body must be JSON: {"nodeName": "..."}');
    }
    const nodeName = body?.nodeName;
    if (typeof nodeName !== 'string' || !NODE_NAME.test(nodeName)) {
      throw new HttpError(400, 'BadRequest', `node name ${JSON.stringify(nodeName)} is not a lowercase RFC 1123 subdomain`);
    }
    const authority = await getCA();
    const pair = await issueCert(authority, { cn: `system:node:${nodeName}`, orgs: ['system:nodes'], usage: 'client' });
    const again = recordJoin(o.dataDir, nodeName, cred.id);
    log.info({ node: nodeName, token: cred.id, rejoin: again }, again ? 'node re-joined and reclaimed its name' : 'node joined');
    return {
      apiVersion: 'hawser.io/v1', kind: 'JoinResponse', nodeName, server: o.serverURL,
      caCert: authority.certPem, clientCert: pair.certPem, clientKey: pair.keyPem,
    };
  }

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'https://localhost').pathname;
    if (path !== CACERTS_PATH && path !== JOIN_PATH) return false;
    void (async () => {
      if (path === CACERTS_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', `${req.method} ${path}: use GET`);
        return send(res, 200, (await getCA()).certPem, 'application/x-pem-file');
      }
      if (req.method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', `${req.method} ${path}: use POST`);
      send(res, 200, JSON.stringify(await handleJoin(req)), 'application/json');
    })().catch((e: unknown) => {
      const err = e instanceof HttpError ? e : new HttpError(500, 'InternalError', String((e as Error)?.message ?? e));
      if (err.code >= 500) log.error({ err: String(e) }, 'join request failed');
      else log.warn({ path, code: err.code, reason: err.message }, 'join request refused');
      if (!res.headersSent) sendStatus(res, err); else res.destroy();
    });
    return true;
  };
}
