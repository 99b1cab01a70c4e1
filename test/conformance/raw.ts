// One HTTP request to the API server with a kubeconfig's identity, as upstream's e2e tests send
// them through a rest transport: any method, redirects not followed, the body read as text.
import https from 'node:https';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** What a request may carry besides its identity: a body and headers (Accept, Content-Type). */
export interface RawSend {
  body?: string;
  headers?: Record<string, string>;
}

export function rawRequest(kubeconfig: string, method: string, path: string, timeoutMs = 15_000, send: RawSend = {}): Promise<RawReply> {
  const { server, ca, cert, key, token } = loadKubeconfig(kubeconfig);
  const u = new URL(server);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...send.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const r = https.request({ host: u.hostname, port: u.port, path, method, ca, cert, key, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (x: string) => (text += x));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    r.on('timeout', () => r.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(send.body);
  });
}
