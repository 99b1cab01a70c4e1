// The whole agent as `hawser kube-proxy` runs it: startKubeProxy() lists and watches Services and
// EndpointSlices from an API server (a small fake one here, HTTPS on loopback, serving the real API
// shapes), and keeps a node namespace's rules in step; /healthz and /metrics answer.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { startKubeProxy } from '../../agents/kube-proxy/index.ts';
import { Testbed, httpGet } from '../support/proxy-testbed.ts';

const dir = mkdtempSync(join(tmpdir(), 'kp-agent-'));
const bed = new Testbed();
let api: FakeApi;

/** Lists and watches of two resources, with events pushed by the test. */
class FakeApi {
  private rv = 1;
  private objects = new Map<string, Map<string, object>>([
    ['services', new Map()],
    ['endpointslices', new Map()],
  ]);
  private watchers = new Map<string, Set<ServerResponse>>([
    ['services', new Set()],
    ['endpointslices', new Set()],
  ]);
  server: https.Server;
  port = 0;

  constructor(key: Buffer, cert: Buffer) {
    this.server = https.createServer({ key, cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://x');
      const kind = url.pathname.endsWith('/services') ? 'services' : url.pathname.endsWith('/endpointslices') ? 'endpointslices' : '';
      if (!kind) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound' }));
        return;
      }
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        this.watchers.get(kind)!.add(res);
        req.on('close', () => this.watchers.get(kind)!.delete(res));
        return;
      }
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ kind: 'List', items: [...this.objects.get(kind)!.values()], metadata: { resourceVersion: String(this.rv) } }));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  emit(kind: 'services' | 'endpointslices', type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: V1Service | V1EndpointSlice): void {
    const o = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (type === 'DELETED') this.objects.get(kind)!.delete(key);
    else this.objects.get(kind)!.set(key, o);
    for (const w of this.watchers.get(kind)!) w.write(`${JSON.stringify({ type, object: o })}\n`);
  }

  close(): void {
    for (const set of this.watchers.values()) for (const w of set) w.destroy();
    this.server.closeAllConnections();
    this.server.close();
  }
}

test.before(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  api = new FakeApi(readFileSync(join(dir, 'key.pem')), readFileSync(join(dir, 'cert.pem')));
  await api.start();
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: t',
      'clusters: [{name: t, cluster: {server: "https://127.0.0.1:' + api.port + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: t, user: {token: test}}]',
      'contexts: [{name: t, context: {cluster: t, user: t}}]',
      '',
    ].join('\n'),
  );
  bed.create([
    { name: 'a', node: 1 },
    { name: 'b', node: 1 },
    { name: 'cli', node: 1 },
  ]);
  bed.serve('a', 8080);
  bed.serve('b', 8080);
  await bed.ready(8080);
});
test.after.always(() => {
  api?.close();
  bed.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const service: V1Service = {
  metadata: { namespace: 'default', name: 'web' },
  spec: { clusterIP: '10.96.20.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
};
const slice = (pods: string[]): V1EndpointSlice => ({
  addressType: 'IPv4',
  metadata: { namespace: 'default', name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: pods.map((p) => ({ addresses: [bed.pods.get(p)!.ip], nodeName: 'node1', conditions: { ready: true } })),
});

/** Polls a condition for up to 10 s. */
async function until(what: string, f: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const mode of ['iptables', 'nftables'] as const) {
  test.serial(`${mode}: the agent follows watch events into the kernel and reports health and metrics`, async (t) => {
    const cli = bed.pods.get('cli')!.ns;
    const healthz = 30000 + Math.floor(Math.random() * 10000);
    const metrics = healthz + 1;
    api.emit('services', 'ADDED', service);
    api.emit('endpointslices', 'ADDED', slice(['a']));
    const proxy = await startKubeProxy({
      nodeName: 'node1',
      kubeconfig: join(dir, 'kubeconfig'),
      mode,
      clusterCIDR: '10.244.0.0/16',
      healthzBindAddress: `127.0.0.1:${healthz}`,
      metricsBindAddress: `127.0.0.1:${metrics}`,
      minSyncPeriodMs: 100,
      syncPeriodMs: 30_000,
      netns: bed.node1,
      cleanupOnStop: true,
    });
    let stopped = false;
    t.teardown(async () => {
      if (!stopped) await proxy.stop();
    });
    // ready (systemd's READY=1) means the first sync is in the kernel: the Service answers at once
    await proxy.ready;
    t.true(bed.tcp(cli, '10.96.20.10', 80).startsWith('a '), 'the Service answers as soon as ready resolved');
    api.emit('endpointslices', 'MODIFIED', slice(['a', 'b']));
    await until('both endpoints answer', () => new Set(bed.tcpMany(cli, '10.96.20.10', 80, 10).map((l) => l.split(' ')[0])).size === 2);
    const hz = await httpGet(healthz, '/healthz');
    t.is(hz.status, 200, hz.text);
    const m = (await httpGet(metrics, '/metrics')).text;
    const syncs = Number(/kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)/.exec(m)?.[1]);
    t.true(syncs >= 2, m.slice(0, 500));
    t.regex(m, /kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/);
    api.emit('services', 'DELETED', service);
    api.emit('endpointslices', 'DELETED', slice(['a', 'b']));
    await until('the Service is gone', () => !/^[ab] /.test(bed.tcp(cli, '10.96.20.10', 80)));
    stopped = true;
    await proxy.stop();
    const left =
      mode === 'iptables' ? bed.sh(bed.node1, 'iptables-save | grep -c KUBE- || true') : bed.sh(bed.node1, 'nft list tables | grep -c kube-proxy || true');
    t.is(left.trim(), '0');
  });
}

test.serial(
  '`hawser kube-proxy --cleanup` removes what both iptables and nftables modes left, keeps other rules, and exits 0 without an API server',
  async (t) => {
    api.emit('services', 'ADDED', service);
    api.emit('endpointslices', 'ADDED', slice(['a']));
    const cli = bed.pods.get('cli')!.ns;
    for (const mode of ['iptables', 'nftables'] as const) {
      const port = 30000 + Math.floor(Math.random() * 10000);
      const proxy = await startKubeProxy({
        nodeName: 'node1',
        kubeconfig: join(dir, 'kubeconfig'),
        mode,
        clusterCIDR: '10.244.0.0/16',
        healthzBindAddress: `127.0.0.1:${port}`,
        metricsBindAddress: `127.0.0.1:${port + 1}`,
        minSyncPeriodMs: 100,
        syncPeriodMs: 30_000,
        netns: bed.node1,
      });
      try {
        // the mode's own rules, not the other mode's leftovers, answer
        const own = mode === 'iptables' ? 'iptables-save | grep -c "^:KUBE-SVC-" || true' : 'nft list tables | grep -c kube-proxy || true';
        await until(`${mode}: its rules are in`, () => bed.sh(bed.node1, own).trim() !== '0');
        await until(`${mode}: the Service answers`, () => bed.tcp(cli, '10.96.20.10', 80).startsWith('a '));
      } finally {
        await proxy.stop(); // no cleanupOnStop: the rules stay, as after a crash or a mode switch
      }
    }
    bed.sh(bed.node1, 'iptables -N HAWSER-TEST-KEEP && iptables -A INPUT -j HAWSER-TEST-KEEP');
    t.teardown(() => {
      bed.sh(bed.node1, 'iptables -D INPUT -j HAWSER-TEST-KEEP; iptables -X HAWSER-TEST-KEEP; true');
    });
    const main = new URL('../../agents/cli/main.ts', import.meta.url).pathname;
    const r = spawnSync('ip', ['netns', 'exec', bed.node1, process.execPath, '--import=tsx', main, 'kube-proxy', '--cleanup', '--kubeconfig', '/nonexistent'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.is(r.status, 0, r.stderr);
    t.is(
      bed
        .sh(bed.node1, 'iptables-save | grep -E "^:KUBE-(SERVICES|SVC-|SEP-|NODEPORTS|POSTROUTING|MARK-MASQ|FORWARD|EXTERNAL-SERVICES|PROXY-FIREWALL)" || true')
        .trim(),
      '',
    );
    t.is(bed.sh(bed.node1, 'nft list tables | grep -c kube-proxy || true').trim(), '0');
    t.regex(bed.sh(bed.node1, 'iptables -S INPUT'), /-j HAWSER-TEST-KEEP/);
    api.emit('services', 'DELETED', service);
    api.emit('endpointslices', 'DELETED', slice(['a']));
  },
);
