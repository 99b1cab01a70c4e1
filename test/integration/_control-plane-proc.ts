// Shared by the crash tests (the leading underscore keeps ava from running it): the real bundle's
// `hawser control-plane` as a child process that a test can SIGKILL and start again on the same
// data directory and port, and a small HTTPS client that reads its admin kubeconfig.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';

export const BUNDLE = resolve('dist/hawser.cjs');

/** Throws unless dist/ holds a bundle new enough to have `flag` in its control-plane --help. */
export function requireBundle(flag: string): void {
  if (!existsSync(BUNDLE)) throw new Error('dist/hawser.cjs is missing: run `node build.mjs`');
  const help = spawnSync(process.execPath, [BUNDLE, 'control-plane', '--help'], { encoding: 'utf8' }).stdout;
  if (!help.includes(flag)) throw new Error(`dist/hawser.cjs is stale (no ${flag}): run \`node build.mjs\``);
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
      .once('error', rej)
      .listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => res(p));
      });
  });
}

/** The control-plane command line for a data dir under `dir` on loopback, without cluster DNS. */
export function controlPlaneArgs(dir: string, port: number, datastore?: string): { args: string[]; dataDir: string; kubeconfig: string } {
  const config = join(dir, 'empty.yaml');
  writeFileSync(config, '{}\n');
  const dataDir = join(dir, 'data');
  const args = [
    '--config',
    config,
    '--data-dir',
    dataDir,
    '--bind-address',
    '127.0.0.1',
    '--advertise-address',
    '127.0.0.1',
    '--port',
    String(port),
    '--cluster-dns',
    '',
    ...(datastore ? ['--datastore-endpoint', datastore] : []),
  ];
  return { args, dataDir, kubeconfig: join(dataDir, 'admin.kubeconfig') };
}

export interface Server {
  proc: ChildProcess;
  exited: Promise<void>;
  stderr(): string;
}

export function startServer(args: string[]): Server {
  const proc = spawn(process.execPath, [BUNDLE, 'control-plane', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HAWSER_LOG_LEVEL: 'error' },
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return { proc, exited: new Promise((r) => proc.once('exit', () => r())), stderr: () => err };
}

/** SIGKILLs the server if it still runs and waits for it to be gone. */
export async function killServer(srv: Server | undefined): Promise<void> {
  if (!srv || srv.proc.exitCode !== null || srv.proc.signalCode !== null) return;
  srv.proc.kill('SIGKILL');
  await srv.exited;
}

export interface Client {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: any }>;
  close(): void;
}

export function client(kubeconfig: string, port: number, sockets = 8): Client {
  const { ca, cert, key } = loadKubeconfig(kubeconfig);
  const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ca, cert, key });
  return {
    request: (method, path, body, contentType = 'application/json') =>
      new Promise((res, rej) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          {
            host: '127.0.0.1',
            port,
            path,
            method,
            agent,
            timeout: 10_000,
            headers: data ? { 'content-type': contentType, 'content-length': Buffer.byteLength(data) } : {},
          },
          (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (c) => (text += c));
            r.on('end', () => res({ status: r.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
            r.on('error', rej);
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', rej);
        req.end(data);
      }),
    close: () => agent.destroy(),
  };
}

export async function waitReady(kubeconfig: string, port: number, srv: Server, sockets?: number): Promise<Client> {
  // generous: a loaded machine may take a while to start node and open the store
  const deadline = Date.now() + 60_000;
  let dead = false;
  void srv.exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`control plane exited during start: ${srv.stderr()}`);
    if (existsSync(kubeconfig)) {
      const c = client(kubeconfig, port, sockets);
      const r = await c.request('GET', '/api/v1/namespaces/default').catch(() => undefined);
      if (r?.status === 200) return c;
      c.close();
    }
    if (Date.now() > deadline) throw new Error(`control plane did not become ready: ${srv.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
