// Shared by the apiserver-* test files (the leading underscore keeps ava from running it): an
// in-process control plane on loopback over SQLite or a throwaway etcd, the real kubectl v1.35
// run asynchronously (a synchronous spawn would block the server in this same process), and
// kubeconfigs for other identities.
import { spawn } from 'node:child_process';
import wt from 'node:worker_threads';
import zlib from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { issueKubeconfig, startControlPlane, type ControlPlaneOptions } from '../../agents/control-plane/index.ts';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd-server.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
export const KUBECTL = resolve('.build/bin/kubectl');

export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  dir: string;
  url: string;
  admin: string;
  backend: 'sqlite' | 'etcd';
  etcd?: EtcdServer;
  opts: ControlPlaneOptions;
  kubectl(args: string[], o?: { input?: string; kubeconfig?: string; timeoutMs?: number }): Promise<Out>;
  ok(args: string[], o?: { input?: string; kubeconfig?: string }): Promise<string>;
  /** a kubeconfig for a client certificate with this user and groups */
  identity(user: string, groups: string[]): Promise<string>;
  /** a kubeconfig that authenticates with a bearer token only */
  tokenConfig(token: string): string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function runKubectl(kubeconfig: string, home: string, args: string[], input?: string, timeoutMs = 30_000): Promise<Out> {
  return new Promise((res) => {
    const p = spawn(KUBECTL, args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.end(input ?? '');
  });
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function startCluster(backend: 'sqlite' | 'etcd', extra: Partial<ControlPlaneOptions> = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), `hawser-api-${backend}-`));
  let etcd: EtcdServer | undefined;
  if (backend === 'etcd') {
    if (!etcdAvailable()) throw new Error('etcd is not installed: apt-get install etcd-server');
    etcd = await startEtcd();
  }
  const opts: ControlPlaneOptions = {
    dataDir: dir,
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '127.0.0.1',
    clusterCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    datastoreEndpoint: etcd?.endpoint,
    ...extra,
  };
  let cp = await startControlPlane(opts).catch(async (e) => {
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  const admin = join(dir, 'admin.kubeconfig');
  // kubeconfigs name the first URL; a restart binds the same port again
  opts.port = Number(new URL(cp.url).port);
  const c: Cluster = {
    dir,
    url: cp.url,
    admin,
    backend,
    etcd,
    opts,
    kubectl: (args, o = {}) => runKubectl(o.kubeconfig ?? admin, dir, args, o.input, o.timeoutMs),
    async ok(args, o = {}) {
      const r = await c.kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async identity(user, groups) {
      const outFile = join(dir, `${user.replace(/[^a-z0-9-]/gi, '_')}.kubeconfig`);
      await issueKubeconfig({ dataDir: dir, server: cp.url, user, groups, outFile });
      return outFile;
    },
    tokenConfig(token) {
      const outFile = join(dir, `token-${Math.random().toString(36).slice(2)}.kubeconfig`);
      writeFileSync(
        outFile,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 't',
          clusters: [{ name: 'c', cluster: { server: cp.url, 'insecure-skip-tls-verify': true } }],
          users: [{ name: 'u', user: { token } }],
          contexts: [{ name: 't', context: { cluster: 'c', user: 'u' } }],
        }),
      );
      return outFile;
    },
    async restart() {
      await cp.close();
      cp = await startControlPlane(opts);
    },
    async close() {
      await cp.close();
      await etcd?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return c;
}

export const readyNode = (name: string, ip: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z/, 'Z'),
        lastTransitionTime: '2025-01-01T00:00:00Z',
      },
    ],
    addresses: [
      { type: 'InternalIP', address: ip },
      { type: 'Hostname', address: name },
    ],
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
  },
});

/**
 * @kubernetes/client-node at run time. Its 2.0.1 release pulls undici 8, which wants Node >= 22.19
 * and touches three newer APIs while loading; on this machine's Node 20 they are filled in here
 * (zstd is never negotiated with this server; the other two are exact equivalents).
 */
export async function clientNode(): Promise<typeof import('@kubernetes/client-node')> {
  const z = zlib as unknown as Record<string, unknown>;
  z.createZstdDecompress ??= () => {
    throw new Error('zstd decompression is not available on this Node version');
  };
  (wt as unknown as Record<string, unknown>).markAsUncloneable ??= () => undefined;
  const P = Promise as unknown as { withResolvers?: () => unknown };
  P.withResolvers ??= () => {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise, resolve, reject };
  };
  return import('@kubernetes/client-node');
}
