// A raw HTTPS client for the limits tests (the leading underscore keeps ava from running it): one
// request with a kubeconfig's identity, the body sent as given (a string keeps literals such as
// 1e20 exactly as typed), the reply's status and parsed JSON, and its time.
import https from 'node:https';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

export interface Reply {
  status: number;
  body: any;
  /** the body's bytes as sent */
  text: string;
  ms: number;
}

export interface RawClient {
  request(method: string, path: string, body?: string | object, contentType?: string): Promise<Reply>;
  close(): void;
}

export function rawClient(kubeconfig: string, timeoutMs = 10_000): RawClient {
  const { server, ca, cert, key, token, insecureSkipTLSVerify } = loadKubeconfig(kubeconfig);
  const u = new URL(server);
  const agent = new https.Agent({ keepAlive: true, ca, cert, key, rejectUnauthorized: !insecureSkipTLSVerify });
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    request: (method, path, body, contentType = 'application/json') =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const headers = data === undefined ? auth : { ...auth, 'content-type': contentType, 'content-length': String(Buffer.byteLength(data)) };
        const req = https.request({ host: u.hostname, port: u.port, path, method, agent, timeout: timeoutMs, headers }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // plain text (healthz)
            }
            resolve({ status: r.statusCode ?? 0, body: parsed, text, ms: Date.now() - started });
          });
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(data);
      }),
    close: () => agent.destroy(),
  };
}
