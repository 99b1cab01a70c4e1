// Raw HTTPS requests to a test control plane (the leading underscore keeps ava from running it):
// exact bytes, any method, path, header or body, so tests can send what no client library would.
import https from 'node:https';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** the body as JSON, if it is JSON */
  json?: Record<string, any>;
}

export type Send = (r: RawRequest) => Promise<RawResponse>;

/** A sender with the identity of a kubeconfig (client certificate or token), over one keep-alive agent. */
export function rawClient(kubeconfig: string): Send & { close(): void } {
  const auth = loadKubeconfig(kubeconfig);
  const { hostname, port } = new URL(auth.server);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 4,
    ca: auth.ca,
    cert: auth.cert,
    key: auth.key,
    rejectUnauthorized: !auth.insecureSkipTLSVerify,
  });
  const send = (r: RawRequest) =>
    new Promise<RawResponse>((resolve, reject) => {
      // a body goes with its length, as every Kubernetes client sends it
      const length: Record<string, string> = r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) };
      const headers: Record<string, string> = { ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}), ...length, ...r.headers };
      const req = https.request({ host: hostname, port, agent, method: r.method ?? 'GET', path: r.path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, any> | undefined;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.setTimeout(r.timeoutMs ?? 15_000, () => req.destroy(new Error(`timed out: ${r.method ?? 'GET'} ${r.path.slice(0, 200)}`)));
      req.on('error', reject);
      req.end(r.body);
    });
  return Object.assign(send, { close: () => agent.destroy() });
}

/** A 422's causes as `field: message` lines, as kubectl prints them. */
export const causeLines = (r: { json?: Record<string, any> }): string[] =>
  (r.json?.details?.causes ?? []).map((x: { field: string; message: string }) => `${x.field}: ${x.message}`);
