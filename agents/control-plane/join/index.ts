// The server side of joining a node, mounted in front of the API server's client-certificate auth:
//   GET  /cacerts          the cluster CA (PEM), unauthenticated: the joining node checks its hash
//                          against the token's pin before it trusts anything from this server;
//   POST /v1-hawser/join   Authorization: Bearer <id>.<secret>, body {"nodeName": "...",
//                          "nodePassword": "..."}: a client certificate for system:node:<name>
//                          (group system:nodes) signed by the CA, and kube-proxy's and podnet's own;
//   POST /v1-hawser/serving-cert  with a node's client certificate: its kubelet serving certificate
//                          (serving-cert.ts).
// A valid token lets a machine join; the node password (node-password.ts) decides who may use a
// name: a node joining again under its name (its credentials lost) gets fresh ones only with the
// same password, unless its Node object was deleted, as k3s does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../private-file.ts';
import { join } from 'node:path';
import { logger } from '../../api/log.ts';
import { issueCert, loadOrCreateCA } from '../pki.ts';
import { AGENT_COMPONENTS, type AgentComponent, agentSubject } from '../auth/agent-identities.ts';
import { decideJoin, hashPassword, MIN_PASSWORD, passwordMatches } from './node-password.ts';
import { checkCredential, readTokens } from './store.ts';
import { parseCredential } from './token.ts';
import { FailureThrottle, type ThrottleOptions } from './throttle.ts';
import { nodeOf, SERVING_CERT_PATH, servingSANs, type ServingCertResponse } from './serving-cert.ts';
import { userFromSocket } from '../apiserver/server.ts';
import { ApiError, internalError, statusBody, tooLarge } from '../apiserver/errors.ts';
import { requestURL } from '../apiserver/request.ts';

export const CACERTS_PATH = '/cacerts';
export const JOIN_PATH = '/v1-hawser/join';
const MAX_BODY = 16 * 1024;
/** a longer body is read and thrown away up to this size, so that the client gets its 413 rather than a reset */
const DISCARD_LIMIT = 1024 * 1024;
// RFC 1123 subdomain, as Node names must be
const NODE_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface JoinResponse {
  apiVersion: 'hawser.io/v1';
  kind: 'JoinResponse';
  nodeName: string;
  /** the API server URL as the control plane advertises it */
  server: string;
  caCert: string;
  /** the kubelet's: system:node:<name> */
  clientCert: string;
  clientKey: string;
  /** kube-proxy's and podnet's own (agent-identities.ts), so that neither runs as the node */
  components: Record<Exclude<AgentComponent, 'kubelet'>, { clientCert: string; clientKey: string }>;
}

function send(res: ServerResponse, code: number, body: string, type: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

function sendStatus(res: ServerResponse, e: ApiError): void {
  if (e.code === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="hawser join"');
  if (e.details?.retryAfterSeconds) res.setHeader('Retry-After', String(e.details.retryAfterSeconds));
  if (e.code === 413) res.setHeader('Connection', 'close');
  send(res, e.code, statusBody(e.toStatus()), 'application/json');
}

/** At most MAX_BODY bytes; a longer body is refused with 413 once read to its end (up to DISCARD_LIMIT). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > DISCARD_LIMIT) return reject(tooLarge(MAX_BODY));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else if (size > DISCARD_LIMIT) {
        req.pause();
        reject(tooLarge(MAX_BODY));
      }
    });
    req.on('end', () => (size > MAX_BODY ? reject(tooLarge(MAX_BODY)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

interface JoinRecord {
  tokenId: string;
  joinedAt: string;
  joins: number;
  passwordHash?: string;
}
const joinedFile = (dataDir: string) => join(dataDir, 'joined-nodes.json');

function readJoins(dataDir: string): Record<string, JoinRecord> {
  const f = joinedFile(dataDir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, JoinRecord>) : {};
}

/** Records who joined under which name with which token (the audit trail) and the name's password hash. */
function recordJoin(dataDir: string, nodeName: string, tokenId: string, passwordHash: string): void {
  const f = joinedFile(dataDir);
  const doc = readJoins(dataDir);
  doc[nodeName] = { tokenId, joinedAt: new Date().toISOString(), joins: (doc[nodeName]?.joins ?? 0) + 1, passwordHash };
  writeFileAtomic(f, `${JSON.stringify(doc, null, 2)}\n`);
}

/** `nodeExists` asks the API whether a Node of that name is there (a deleted Node frees its name). */
export function joinHandler(o: {
  dataDir: string;
  serverURL: string;
  nodeExists: (name: string) => Promise<boolean>;
  throttle?: ThrottleOptions;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const log = logger('join');
  const throttle = new FailureThrottle(o.throttle);
  let ca: ReturnType<typeof loadOrCreateCA> | undefined;
  const getCA = () => (ca ??= loadOrCreateCA(join(o.dataDir, 'tls')));

  async function handleJoin(req: IncomingMessage): Promise<JoinResponse> {
    const addr = req.socket.remoteAddress ?? '';
    const throttled = throttle.check(addr);
    if (throttled) throw throttled;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const cred = m ? parseCredential(m[1]) : undefined;
    const refuse = (message: string) => {
      throttle.fail(addr);
      return new ApiError(401, 'Unauthorized', message);
    };
    if (!cred) throw refuse('a join needs "Authorization: Bearer <id>.<secret>" from `hawser token create`');
    const check = checkCredential(readTokens(o.dataDir), cred.id, cred.secret);
    if (!check.ok) {
      throw refuse(check.reason === 'expired' ? `join token ${cred.id} has expired: create a new one with \`hawser token create\`` : 'unknown join token');
    }
    let body: { nodeName?: unknown; nodePassword?: unknown };
    try {
      body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(400, 'BadRequest', 'join request body must be JSON: {"nodeName": "...", "nodePassword": "..."}');
    }
    const nodeName = body?.nodeName;
    if (typeof nodeName !== 'string' || !NODE_NAME.test(nodeName)) {
      throw new ApiError(400, 'BadRequest', `node name ${JSON.stringify(nodeName)} is not a lowercase RFC 1123 subdomain`);
    }
    const password = body.nodePassword;
    if (typeof password !== 'string' || password.length < MIN_PASSWORD) {
      throw new ApiError(
        400,
        'BadRequest',
        `nodePassword must be a string of at least ${MIN_PASSWORD} characters (the joining node keeps it in /etc/hawser/node-password)`,
      );
    }
    const storedHash = readJoins(o.dataDir)[nodeName]?.passwordHash;
    const decision = await decideJoin({ storedHash, nodeExists: await o.nodeExists(nodeName), passwordOk: () => passwordMatches(password, storedHash!) });
    if (!decision.ok) {
      const why = decision.why === 'password-mismatch' ? "this machine's node password does not match its own" : 'no node password is on record for it';
      throw new ApiError(
        403,
        'Forbidden',
        `node ${nodeName} is already in the cluster and ${why}: ` +
          `use another --node-name, or, if that node is gone for good, \`kubectl delete node ${nodeName}\` and join again`,
      );
    }
    const authority = await getCA();
    const issue = async (c: AgentComponent) => {
      const who = agentSubject(c, nodeName);
      const p = await issueCert(authority, { cn: who.user, orgs: who.groups, usage: 'client' });
      return { clientCert: p.certPem, clientKey: p.keyPem };
    };
    const [kubelet, proxy, podnet, ingress] = await Promise.all(AGENT_COMPONENTS.map(issue));
    recordJoin(o.dataDir, nodeName, cred.id, decision.why === 'same-password' ? storedHash! : await hashPassword(password));
    log.info({ node: nodeName, token: cred.id, why: decision.why }, decision.why === 'new' ? 'node joined' : 'node re-joined under its name');
    return {
      apiVersion: 'hawser.io/v1',
      kind: 'JoinResponse',
      nodeName,
      server: o.serverURL,
      caCert: authority.certPem,
      ...kubelet,
      components: { 'kube-proxy': proxy, podnet, ingress },
    };
  }

  async function handleServingCert(req: IncomingMessage): Promise<ServingCertResponse> {
    const nodeName = nodeOf(userFromSocket(req.socket as TLSSocket));
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req)).toString('utf8') || '{}');
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError(400, 'BadRequest', 'serving certificate request body must be JSON: {"addresses": ["<node IP>", ...]}');
    }
    const sans = servingSANs(nodeName, body);
    const pair = await issueCert(await getCA(), { cn: `system:node:${nodeName}`, orgs: ['system:nodes'], sans, usage: 'server' });
    log.info({ node: nodeName, sans }, 'issued a kubelet serving certificate');
    return { apiVersion: 'hawser.io/v1', kind: 'ServingCertResponse', ...pair };
  }

  return (req, res) => {
    const path = requestURL(req.url).pathname;
    if (path !== CACERTS_PATH && path !== JOIN_PATH && path !== SERVING_CERT_PATH) return false;
    void (async () => {
      if (path === CACERTS_PATH) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new ApiError(405, 'MethodNotAllowed', `${req.method} ${path}: use GET`);
        return send(res, 200, (await getCA()).certPem, 'application/x-pem-file');
      }
      if (req.method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', `${req.method} ${path}: use POST`);
      if (path === SERVING_CERT_PATH) return send(res, 200, JSON.stringify(await handleServingCert(req)), 'application/json');
      send(res, 200, JSON.stringify(await handleJoin(req)), 'application/json');
    })().catch((e: unknown) => {
      const err = e instanceof ApiError ? e : internalError(e);
      if (err.code >= 500) log.error({ err: String(e) }, 'join request failed');
      else log.warn({ path, code: err.code, reason: err.message }, 'join request refused');
      if (!res.headersSent) sendStatus(res, err);
      else res.destroy();
    });
    return true;
  };
}
