// A throwaway single-member etcd (Debian's etcd-server) on loopback, for tests and benchmarks:
// free ports, its own data dir, killed and removed by stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  endpoint: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

export const ETCD_BIN = process.env.HAWSER_ETCD_BIN ?? '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BIN);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const r = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
    return r.ok && ((await r.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('exit', () => r()));
}

/** Starts etcd and waits (at most timeoutMs) until it answers /health. */
export async function startEtcd(o: { timeoutMs?: number; maxRequestBytes?: number } = {}): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hawser-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  let log = '';
  const p = spawn(
    ETCD_BIN,
    [
      '--name',
      'hawser-test',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `hawser-test=${peerUrl}`,
      '--initial-cluster-state',
      'new',
      // the API server's body limit is 3 MiB; let etcd take a value that large
      '--max-request-bytes',
      String(o.maxRequestBytes ?? 4 * 1024 * 1024),
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  p.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const stop = async () => {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await exited(p);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  while (!(await healthy(endpoint))) {
    if (p.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not become healthy on ${endpoint}: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, dataDir, pid: p.pid!, stop };
}
