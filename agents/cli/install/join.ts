// `hawser join`: makes this host a worker of the cluster the token names. The CA is fetched over
// TLS without trusting anything, and accepted only when its hash is the one pinned in the token;
// from then on the server must prove itself with that CA, and the token's id.secret buys a client
// certificate for system:node:<name> (and kube-proxy's and podnet's own, each 0600). Then the agent install runs with those credentials. A rerun
// whose credentials are still good (same CA, server, name, over 30 days left) fetches nothing.
// The node password kept in /etc/hawser/node-password goes with every join: it is what lets this
// machine, and only it, come back under its name.
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { parseKubeconfig } from '../../api/kubeconfig.ts';
import { renderKubeconfig } from '../../control-plane/kubeconfig.ts';
import { CACERTS_PATH, JOIN_PATH, type JoinResponse } from '../../control-plane/join/index.ts';
import { caHashOfPem, parseToken } from '../../control-plane/join/token.ts';
import { under } from './apply.ts';
import { install, type InstallOptions, type InstallReport } from './install.ts';
import { AGENT_KUBECONFIGS, LAYOUT } from './layout.ts';
import { AGENT_COMPONENTS, type AgentComponent, agentSubject } from '../../control-plane/auth/agent-identities.ts';
import { joinEntries } from './plan.ts';

export interface JoinOptions extends Omit<InstallOptions, 'role'> {
  server: string;
  token: string;
  nodeName: string;
  /** how long to keep retrying while the server cannot be reached (it may still be starting) */
  waitMs?: number;
  /** how long one request to the server may take before it is retried (JOIN_REQUEST_TIMEOUT_MS) */
  requestTimeoutMs?: number;
}

/**
 * One request's time limit. The join answer carries certificates the server signs for each agent
 * component: on a slow or busy server (a small board, a VM in software emulation) that takes more
 * than the few seconds a LAN round trip does, so the limit is generous and a request that ran
 * out of it is retried within --wait like a refused connection.
 */
export const JOIN_REQUEST_TIMEOUT_MS = 60_000;

const DAY = 86_400_000;

interface HttpResult {
  status: number;
  body: string;
}

function request(url: string, o: { method: string; ca?: string; headers?: Record<string, string>; body?: string; timeoutMs: number }): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    // a fresh connection per request: a kept-alive socket the server has since closed would fail
    // the next request with ECONNRESET (Node 20's global agent keeps sockets alive)
    const req = https.request(
      url,
      {
        method: o.method,
        headers: o.headers,
        timeout: o.timeoutMs,
        agent: false,
        ...(o.ca ? { ca: o.ca, rejectUnauthorized: true } : { rejectUnauthorized: false }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${o.timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries connection failures (not HTTP answers) until waitMs has passed. */
async function withRetry<T>(what: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const transient = code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || /no answer/.test(String(e));
      if (!transient || Date.now() + 2000 > deadline) throw new Error(`${what}: ${(e as Error).message}`);
      process.stderr.write(`${what}: ${(e as Error).message}; retrying (attempt ${attempt})\n`);
      await sleep(2000);
    }
  }
}

const serverMessage = (r: HttpResult): string => {
  try {
    return (JSON.parse(r.body) as { message?: string }).message ?? r.body;
  } catch {
    return r.body;
  }
};

/** Fetches the CA without trusting the connection, and refuses it unless its hash is the pinned one. */
export async function fetchPinnedCA(server: string, caHash: string, waitMs = 0, timeoutMs = JOIN_REQUEST_TIMEOUT_MS): Promise<string> {
  const r = await withRetry(`fetching the CA from ${server}`, waitMs, () => request(`${server}${CACERTS_PATH}`, { method: 'GET', timeoutMs }));
  if (r.status !== 200) throw new Error(`${server}${CACERTS_PATH} answered ${r.status}: ${serverMessage(r)}`);
  let got: string;
  try {
    got = caHashOfPem(r.body);
  } catch {
    throw new Error(`${server}${CACERTS_PATH} did not return a PEM certificate`);
  }
  if (got !== caHash) {
    throw new Error(
      `refusing to join: the CA of ${server} (sha256 ${got}) is not the one pinned in the token (sha256 ${caHash}): ` +
        'a different cluster, or someone in between; check --server and the token',
    );
  }
  return r.body;
}

/**
 * Asks the (now authenticated) server for this node's client certificate; retried within waitMs
 * when the server does not answer (a retry is safe: the same token and node password get the
 * same node's credentials again).
 */
export async function requestNodeCredentials(
  server: string,
  caPem: string,
  credential: string,
  nodeName: string,
  nodePassword: string,
  o: { waitMs?: number; timeoutMs?: number } = {},
): Promise<JoinResponse> {
  const body = JSON.stringify({ nodeName, nodePassword });
  const r = await withRetry(`joining through ${server}`, o.waitMs ?? 0, () =>
    request(`${server}${JOIN_PATH}`, {
      method: 'POST',
      ca: caPem,
      body,
      timeoutMs: o.timeoutMs ?? JOIN_REQUEST_TIMEOUT_MS,
      headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
    }),
  );
  if (r.status !== 200) throw new Error(`the server refused the join (${r.status}): ${serverMessage(r)}`);
  const resp = JSON.parse(r.body) as JoinResponse;
  const issued = AGENT_COMPONENTS.map((c) => [c, c === 'kubelet' ? resp.clientCert : resp.components?.[c]?.clientCert] as const);
  for (const [c, pem] of issued) {
    if (!pem) throw new Error(`the server sent no ${c} credentials: it is older than this hawser; upgrade the server first`);
    const cert = new X509Certificate(pem);
    if (!cert.checkIssued(new X509Certificate(caPem)) || !cert.verify(new X509Certificate(caPem).publicKey)) {
      throw new Error('the server returned a certificate not signed by the pinned CA');
    }
    const want = agentSubject(c, nodeName).user;
    if (!cert.subject.split('\n').includes(`CN=${want}`)) throw new Error(`the server returned a certificate for ${cert.subject}, not ${want}`);
  }
  return resp;
}

/** Each agent component's kubeconfig from a join answer, for the URL this node reached the server on. */
export function componentKubeconfigs(server: string, caPem: string, nodeName: string, resp: JoinResponse): Record<AgentComponent, string> {
  const pairs = { kubelet: resp, ...resp.components };
  const out = {} as Record<AgentComponent, string>;
  for (const c of AGENT_COMPONENTS) {
    out[c] = renderKubeconfig({ server, caPem, user: agentSubject(c, nodeName).user, certPem: pairs[c].clientCert, keyPem: pairs[c].clientKey });
  }
  return out;
}

/** The kubeconfig already on disk when it is still good for this server, name and CA. */
export function reusableCredentials(
  root: string,
  o: { server: string; nodeName: string; caHash: string; now?: number },
): { caPem: string; kubeconfigs: Record<AgentComponent, string> } | undefined {
  const caPath = under(root, LAYOUT.caCert);
  if (!existsSync(caPath)) return undefined;
  try {
    const caPem = readFileSync(caPath, 'utf8');
    if (caHashOfPem(caPem) !== o.caHash) return undefined;
    const kubeconfigs = {} as Record<AgentComponent, string>;
    for (const c of AGENT_COMPONENTS) {
      const kcPath = under(root, AGENT_KUBECONFIGS[c]);
      if (!existsSync(kcPath)) return undefined;
      const kubeconfig = readFileSync(kcPath, 'utf8');
      const auth = parseKubeconfig(kubeconfig);
      if (auth.server !== o.server.replace(/\/+$/, '') || !auth.cert || !auth.ca) return undefined;
      if (caHashOfPem(auth.ca.toString('utf8')) !== o.caHash) return undefined;
      const cert = new X509Certificate(auth.cert);
      const fresh = Date.parse(cert.validTo) - (o.now ?? Date.now()) > 30 * DAY;
      const named = cert.subject.split('\n').includes(`CN=${agentSubject(c, o.nodeName).user}`);
      if (!fresh || !named || !cert.checkIssued(new X509Certificate(caPem))) return undefined;
      kubeconfigs[c] = kubeconfig;
    }
    return { caPem, kubeconfigs };
  } catch {
    return undefined;
  }
}

/** The machine's node password: the one already on disk, else a new random one. */
export function nodePasswordOf(root: string): string {
  const f = under(root, LAYOUT.nodePassword);
  const kept = existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
  return kept.length >= 16 ? kept : randomBytes(24).toString('hex');
}

export async function join(o: JoinOptions): Promise<InstallReport> {
  const t = parseToken(o.token);
  const server = o.server.replace(/\/+$/, '');
  if (!/^https:\/\//.test(server)) throw new Error(`--server must be an https:// URL, got ${JSON.stringify(o.server)}`);
  const root = o.root ?? '/';
  const nodePassword = nodePasswordOf(root);
  let creds = reusableCredentials(root, { server, nodeName: o.nodeName, caHash: t.caHash });
  if (!creds) {
    const caPem = await fetchPinnedCA(server, t.caHash, o.waitMs ?? 0, o.requestTimeoutMs);
    const resp = await requestNodeCredentials(server, caPem, `${t.id}.${t.secret}`, o.nodeName, nodePassword, {
      waitMs: o.waitMs,
      timeoutMs: o.requestTimeoutMs,
    });
    // the URL this node reached the server on, which the advertised one may not be (NAT, names)
    creds = { caPem, kubeconfigs: componentKubeconfigs(server, caPem, o.nodeName, resp) };
  }
  return install(
    { ...o, role: 'agent', settings: { ...o.settings, nodeName: o.nodeName } },
    {
      entries: joinEntries({ ...creds, nodePassword }),
      groups: ['install', 'join'],
    },
  );
}
