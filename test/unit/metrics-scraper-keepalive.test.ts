// The built-in metrics-server's scrapes of a real kubelet server on loopback: each kubelet's TLS
// connection carries every scrape (a new handshake per scrape was an idle kubelet's largest single
// cost after its relists), and the kubelet keeps an idle connection past the 15 s resolution.
import { loopbackKubeletServer } from '../support/kubelet-server.ts';
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../agents/api/log.ts';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { DEFAULT_RESOLUTION_MS, MetricsScraper } from '../../agents/control-plane/metrics/scraper.ts';
import { MetricsStore } from '../../agents/control-plane/metrics/store.ts';
import type { ServerCri } from '../../agents/kubelet/server/handlers.ts';
import type { Summary } from '../../agents/kubelet/stats/types.ts';

/** The node's stats, one CPU-second more at each call (10 ms apart at least): a rate from two scrapes. */
let calls = 0;
async function summary(): Promise<Summary> {
  await new Promise((r) => setTimeout(r, 10));
  const time = new Date().toISOString();
  calls++;
  return { node: { nodeName: 'node-1', startTime: time, cpu: { time, usageCoreNanoSeconds: calls * 1e9 }, memory: { time, workingSetBytes: 1024 } }, pods: [] };
}

async function kubelet(t: import('ava').ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'scraper-keepalive-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const server = await loopbackKubeletServer(t, dir, ca.certPem, {
    cri: {} as ServerCri,
    stats: { summary, cadvisor: () => Promise.reject(new Error('unused')) },
  });
  const client = await issueCert(ca, { cn: 'kube-apiserver-kubelet-client', usage: 'client' });
  return { server, serving: readFileSync(server.servingCertFile, 'utf8'), client };
}

/** A TCP relay in front of the kubelet that counts the connections made through it. */
async function counter(t: import('ava').ExecutionContext, port: number): Promise<{ port: number; connections: () => number }> {
  const sockets: Socket[] = [];
  const relay: Server = createServer((down) => {
    const up = createConnection({ host: '127.0.0.1', port });
    sockets.push(down, up);
    down.pipe(up).pipe(down);
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => relay.close(() => r()));
  });
  return { port: (relay.address() as { port: number }).port, connections: () => sockets.length / 2 };
}

test('three scrapes of a kubelet go over one TLS connection', async (t) => {
  const k = await kubelet(t);
  const relay = await counter(t, k.server.port);
  const store = new MetricsStore();
  const node = {
    metadata: { name: 'node-1' },
    status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: relay.port } },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
  const scraper = new MetricsScraper({
    store,
    creds: { cert: k.client.certPem, key: k.client.keyPem, ca: k.serving },
    nodes: async () => [node],
    log: logger('test', 'silent'),
  });
  t.teardown(() => scraper.stop());
  for (let i = 0; i < 3; i++) await scraper.scrapeOnce();
  t.truthy(store.node('node-1'), 'the scrapes were answered: a rate from their points');
  t.is(relay.connections(), 1);
});

test('the kubelet keeps an idle connection open past the scrape interval', async (t) => {
  const k = await kubelet(t);
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const keepAlive = await new Promise<string>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: k.server.port, path: '/healthz', ca: k.serving, cert: k.client.certPem, key: k.client.keyPem, agent },
      (res) => {
        res.resume();
        resolve(String(res.headers['keep-alive']));
      },
    );
    req.on('error', reject);
    req.end();
  });
  const seconds = Number(/timeout=(\d+)/.exec(keepAlive ?? '')?.[1]);
  t.true(seconds * 1000 > DEFAULT_RESOLUTION_MS, `Keep-Alive: ${keepAlive}`);
});
