// Running one probe or lifecycle handler: exec through CRI ExecSync in the container, httpGet and
// tcpSocket from the kubelet (in the node's network namespace) to the pod IP, grpc Health/Check.
// Outcomes carry upstream's messages, which users see in `kubectl describe` events.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { V1ContainerPort, V1HTTPGetAction, V1Probe } from '@kubernetes/client-node';
import { grpcHealthCheck } from './grpc-health.ts';

export interface Outcome {
  ok: boolean;
  output: string;
}

export interface ProbeTarget {
  containerId: string;
  podIP: string;
  ports: V1ContainerPort[];
  exec(containerId: string, cmd: string[], timeoutSec: number): Promise<{ exitCode: number; output: string }>;
}

export const USER_AGENT = 'kube-probe/1.35';
const MAX_BODY = 10 * 1024;

/** A numeric port, or a named one looked up among the container's ports. */
export function resolvePort(port: number | string | undefined, ports: V1ContainerPort[]): number {
  if (typeof port === 'number') return port;
  if (port === undefined || port === '') throw new Error('probe has no port');
  if (/^\d+$/.test(port)) return Number(port);
  const p = ports.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port}`);
  return p.containerPort;
}

const hostPort = (host: string, port: number) => (net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`);

/** Go's net error text for the common socket errors. */
function dialError(err: NodeJS.ErrnoException, host: string, port: number): string {
  const addr = hostPort(host, port);
  if (err.code === 'ECONNREFUSED') return `dial tcp ${addr}: connect: connection refused`;
  if (err.code === 'EHOSTUNREACH') return `dial tcp ${addr}: connect: no route to host`;
  if (err.code === 'ENETUNREACH') return `dial tcp ${addr}: connect: network is unreachable`;
  return `dial tcp ${addr}: ${err.message}`;
}

export function tcpCheck(host: string, port: number, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (o: Outcome) => {
      clearTimeout(timer);
      s.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ ok: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` }), timeoutMs);
    s.once('connect', () => done({ ok: true, output: '' }));
    s.once('error', (err) => done({ ok: false, output: dialError(err as NodeJS.ErrnoException, host, port) }));
  });
}

export function httpURL(a: V1HTTPGetAction, podIP: string, ports: V1ContainerPort[]): URL {
  const scheme = (a.scheme ?? 'HTTP').toLowerCase();
  const host = a.host || podIP;
  const port = resolvePort(a.port as number | string, ports);
  let path = a.path ?? '';
  if (!path.startsWith('/')) path = `/${path}`;
  return new URL(`${scheme}://${hostPort(host, port)}${path}`);
}

function httpOnce(
  url: URL,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number; location?: string; body: string } | { error: string }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (v: { code: number; location?: string; body: string } | { error: string }) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(v);
      }
    };
    const req = mod.request(url, { method: 'GET', headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < MAX_BODY) body += c;
      });
      res.on('end', () => finish({ code: res.statusCode ?? 0, location: res.headers.location, body: body.slice(0, MAX_BODY) }));
      res.on('error', () => finish({ code: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    const timer = setTimeout(() => {
      finish({ error: `Get ${JSON.stringify(url.href)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      finish({
        error: `Get ${JSON.stringify(url.href)}: ${dialError(err, url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || (url.protocol === 'https:' ? 443 : 80)))}`,
      }),
    );
    req.end();
  });
}

/** GET with redirects followed on the same host (up to 10); 200-399 succeeds, as upstream's prober. */
export async function httpCheck(url: URL, extraHeaders: { name: string; value: string }[], timeoutMs: number): Promise<Outcome> {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*' };
  for (const h of extraHeaders) headers[h.name.toLowerCase() === 'host' ? 'Host' : h.name] = h.value;
  let current = url;
  for (let hop = 0; hop <= 10; hop++) {
    const r = await httpOnce(current, headers, timeoutMs);
    if ('error' in r) return { ok: false, output: r.error };
    if (r.code >= 300 && r.code < 400 && r.location) {
      const next = new URL(r.location, current);
      if (next.host !== current.host) return { ok: true, output: 'Probe terminated redirects' };
      current = next;
      continue;
    }
    if (r.code >= 200 && r.code < 400) return { ok: true, output: r.body };
    return { ok: false, output: `HTTP probe failed with statuscode: ${r.code}` };
  }
  return { ok: false, output: 'stopped after 10 redirects' };
}

/** Runs a probe once; never throws (an error is a failed probe). */
export async function runProbe(p: V1Probe, t: ProbeTarget): Promise<Outcome> {
  const timeoutSec = Math.max(1, p.timeoutSeconds ?? 1);
  try {
    if (p.exec) {
      const r = await t.exec(t.containerId, p.exec.command ?? [], timeoutSec);
      return { ok: r.exitCode === 0, output: r.output };
    }
    if (p.httpGet) return await httpCheck(httpURL(p.httpGet, t.podIP, t.ports), p.httpGet.httpHeaders ?? [], timeoutSec * 1000);
    if (p.tcpSocket) return await tcpCheck(p.tcpSocket.host || t.podIP, resolvePort(p.tcpSocket.port as number | string, t.ports), timeoutSec * 1000);
    if (p.grpc) {
      const r = await grpcHealthCheck(hostPort(t.podIP, p.grpc.port), p.grpc.service ?? '', timeoutSec * 1000);
      return r.ok ? { ok: true, output: '' } : { ok: false, output: r.message };
    }
    return { ok: false, output: 'missing probe handler' };
  } catch (err) {
    return { ok: false, output: (err as Error).message };
  }
}
