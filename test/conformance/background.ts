// Long-running kubectl commands (proxy, port-forward): start one, wait for the line that says it is
// serving, and stop it by its own pid when the test is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { KUBECTL } from '../helpers/kubectl.ts';

export interface Background {
  match: RegExpMatchArray;
  output: () => string;
  stop: () => void;
}

export function startKubectl(kubeconfig: string, args: string[], ready: RegExp, timeoutMs = 20_000): Promise<Background> {
  const child: ChildProcess = spawn(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`kubectl ${args.join(' ')} did not report ${ready} within ${timeoutMs / 1000} s: ${out.trim()}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve({ match: m, output: () => out, stop });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl ${args.join(' ')} exited (${code}): ${out.trim()}`));
    });
  });
}

/** A GET over TCP (host, port) or a unix socket; resolves to status and body. */
export function httpGet(o: { port?: number; host?: string; socketPath?: string; path: string }, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: o.host ?? '127.0.0.1', port: o.port, socketPath: o.socketPath, path: o.path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${o.path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
