// Cluster DNS against a real control plane: objects go in through the API, questions go out over
// UDP and TCP with dns-packet (and, as root, through glibc and busybox in a throwaway netns whose
// resolv.conf is what a ClusterFirst pod gets). Forwarding goes to a fake upstream on loopback.
import test from 'ava';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';
import type { V1Service } from '@kubernetes/client-node';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { startControlPlane } from '../../agents/control-plane/index.ts';
import { ensureKubeDnsService, startClusterDNS } from '../../agents/control-plane/dns/index.ts';
import { answerData, dnsQuery } from '../../agents/control-plane/dns/client.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'hawser-dns-'));
const cleanups: (() => Promise<unknown> | unknown)[] = [];
let api: ApiClient;
let server: { host: string; port: number };
const upstreamSeen: string[] = [];

/** A resolver for example.test on loopback, UDP and TCP on one port: the host's "upstream". */
async function fakeUpstream(): Promise<number> {
  const answer = (msg: Buffer): Buffer => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0].name;
    upstreamSeen.push(name);
    const ok = name.endsWith('example.test');
    return dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: dnsPacket.RECURSION_AVAILABLE | (ok ? 0 : 3),
      questions: q.questions,
      answers: ok && q.questions![0].type === 'A' ? [{ name, type: 'A', ttl: 60, data: '192.0.2.10' }] : [],
    });
  };
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  udp.on('message', (m, ri) => udp.send(answer(m), ri.port, ri.address));
  const port = (udp.address() as AddressInfo).port;
  const tcp = net.createServer((s) =>
    s.on('data', (d) => {
      const res = answer(d.subarray(2, 2 + d.readUInt16BE(0)));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(res.length);
      s.end(Buffer.concat([len, res]));
    }),
  );
  await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
  cleanups.push(
    () => udp.close(),
    () => new Promise((r) => tcp.close(r)),
  );
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ask = (name: string, type: Parameters<typeof dnsQuery>[2], tcp = false, at = server) => dnsQuery(at, name, type, { tcp, timeoutMs: 5000 });
const resolvesTo = (name: string, want: string[]) =>
  until(`${name} -> ${want}`, async () => {
    const got = answerData(await ask(name, 'A'), 'A').sort();
    return JSON.stringify(got) === JSON.stringify([...want].sort()) && got;
  });

const svcPath = '/api/v1/namespaces/default/services';
const createService = (name: string, spec: V1Service['spec']) =>
  api.create<V1Service>(svcPath, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

test.before(async () => {
  const cp = await startControlPlane({
    dataDir: dir,
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '127.0.0.1',
    clusterCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
  });
  cleanups.push(() => cp.close());
  api = new ApiClient(loadKubeconfig(join(dir, 'admin.kubeconfig')));
  const up = await fakeUpstream();
  writeFileSync(join(dir, 'resolv.conf'), `search example.test\nnameserver 127.0.0.1:${up}\n`);
  const dns = await startClusterDNS({ api, bindAddress: '127.0.0.1', port: 0, clusterDomain: 'cluster.local', resolvConf: join(dir, 'resolv.conf') });
  cleanups.unshift(() => dns.close());
  server = { host: '127.0.0.1', port: dns.port };
  await ensureKubeDnsService(api, { clusterIP: '10.96.0.10', endpointIPs: ['127.0.0.1'], port: dns.port });

  await createService('web', { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] });
  await createService('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] });
  await api.create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-x1', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.2.6'], conditions: { ready: true } },
      { addresses: ['10.244.3.7'], conditions: { ready: false } },
    ],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  });
  await createService('sub', { clusterIP: 'None', selector: { app: 'sub' }, ports: [{ name: 'http', port: 80 }] });
  await api.create('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 's1', labels: { app: 'sub' } },
    spec: { hostname: 'h1', subdomain: 'sub', containers: [{ name: 'c', image: 'x' }] },
  });
  await api.patch(
    '/api/v1/namespaces/default/pods/s1/status',
    { status: { phase: 'Running', podIP: '10.244.1.9', podIPs: [{ ip: '10.244.1.9' }], conditions: [{ type: 'Ready', status: 'True' }] } },
    'merge',
  );
});

test.after.always(async () => {
  for (const c of cleanups)
    await Promise.resolve()
      .then(c)
      .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

test.serial('kube-dns: Service on 10.96.0.10 with Endpoints and an EndpointSlice at our address; it resolves itself', async (t) => {
  const svc = await api.get<V1Service>('/api/v1/namespaces/kube-system/services/kube-dns');
  t.is(svc.spec!.clusterIP, '10.96.0.10');
  t.deepEqual(
    svc.spec!.ports!.map((p) => `${p.name}/${p.port}/${p.protocol}->${p.targetPort}`),
    [`dns/53/UDP->${server.port}`, `dns-tcp/53/TCP->${server.port}`],
  );
  const slice = await api.get<any>('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns');
  t.is(slice.metadata.labels['kubernetes.io/service-name'], 'kube-dns');
  t.deepEqual(
    slice.endpoints.map((e: any) => e.addresses[0]),
    ['127.0.0.1'],
  );
  const ep = await api.get<any>('/api/v1/namespaces/kube-system/endpoints/kube-dns');
  t.deepEqual(
    ep.subsets[0].addresses.map((a: any) => a.ip),
    ['127.0.0.1'],
  );
  // idempotent, and follows a change of address
  await ensureKubeDnsService(api, { clusterIP: '10.96.0.10', endpointIPs: ['127.0.0.1', '127.0.0.2'], port: server.port });
  const again = await api.get<any>('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns');
  t.deepEqual(
    again.endpoints.map((e: any) => e.addresses[0]),
    ['127.0.0.1', '127.0.0.2'],
  );
  await resolvesTo('kube-dns.kube-system.svc.cluster.local', ['10.96.0.10']);
  await resolvesTo('kubernetes.default.svc.cluster.local', ['10.96.0.1']);
  t.deepEqual(answerData(await ask('ns.dns.cluster.local', 'A'), 'A'), ['10.96.0.10']);
});

test.serial('A over UDP and TCP, SRV for the named port, PTR for the cluster IP', async (t) => {
  const web = await api.get<V1Service>(`${svcPath}/web`);
  const ip = web.spec!.clusterIP!;
  await resolvesTo('web.default.svc.cluster.local', [ip]);
  const tcp = await ask('web.default.svc.cluster.local', 'A', true);
  t.true(tcp!.flag_aa);
  t.deepEqual(answerData(tcp, 'A'), [ip]);
  const srv = await ask('_http._tcp.web.default.svc.cluster.local', 'SRV');
  t.deepEqual(answerData(srv, 'SRV'), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' }]);
  t.deepEqual(answerData({ answers: srv!.additionals } as never, 'A'), [ip]);
  const rev = `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  t.deepEqual(answerData(await ask(rev, 'PTR'), 'PTR'), ['web.default.svc.cluster.local']);
});

test.serial('headless: the ready endpoint IPs, a named endpoint host, SRV per endpoint; pod hostname.subdomain', async (t) => {
  await resolvesTo('db.default.svc.cluster.local', ['10.244.1.5', '10.244.2.6']);
  t.deepEqual(answerData(await ask('db-0.db.default.svc.cluster.local', 'A'), 'A'), ['10.244.1.5']);
  const srv = answerData<{ port: number; target: string }>(await ask('_pg._tcp.db.default.svc.cluster.local', 'SRV', true), 'SRV');
  t.deepEqual(srv.map((s) => `${s.port} ${s.target}`).sort(), ['5432 10-244-2-6.db.default.svc.cluster.local', '5432 db-0.db.default.svc.cluster.local']);
  await resolvesTo('h1.sub.default.svc.cluster.local', ['10.244.1.9']);
  await resolvesTo('10-244-1-9.default.pod.cluster.local', ['10.244.1.9']);
});

test.serial('a missing name is NXDOMAIN with the zone SOA in authority; a wrong type is NODATA', async (t) => {
  const nx = await ask('nope.default.svc.cluster.local', 'A');
  t.is(nx!.rcode, 'NXDOMAIN');
  t.true(nx!.flag_aa);
  const soa = nx!.authorities![0] as any;
  t.is(soa.type, 'SOA');
  t.is(soa.name, 'cluster.local');
  t.is(soa.data.mname, 'ns.dns.cluster.local');
  t.true(soa.data.serial > 0);
  const nodata = await ask('web.default.svc.cluster.local', 'AAAA');
  t.is(nodata!.rcode, 'NOERROR');
  t.is(nodata!.answers!.length, 0);
  t.is(nodata!.authorities![0].type, 'SOA');
});

test.serial('names outside the zone go to the upstream from resolv.conf, over UDP and over TCP', async (t) => {
  upstreamSeen.length = 0;
  t.deepEqual(answerData(await ask('www.example.test', 'A'), 'A'), ['192.0.2.10']);
  t.deepEqual(answerData(await ask('tcp.example.test', 'A', true), 'A'), ['192.0.2.10']);
  t.is((await ask('nothing.invalid', 'A'))!.rcode, 'NXDOMAIN', 'upstream NXDOMAIN passes through');
  t.deepEqual(upstreamSeen, ['www.example.test', 'tcp.example.test', 'nothing.invalid']);
  // an ExternalName Service is a CNAME whose target upstream resolves
  await createService('ext', { type: 'ExternalName', externalName: 'www.example.test' });
  const ext = await until('ext CNAME', async () => {
    const r = await ask('ext.default.svc.cluster.local', 'A');
    return r?.answers?.length ? r : undefined;
  });
  t.deepEqual(
    ext.answers!.map((a) => a.type),
    ['CNAME', 'A'],
  );
});

test.serial('SERVFAIL at once with no upstream or a closed one, and within the deadline with a silent one', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  cleanups.push(() => silent.close());
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r)); // a port nobody listens on: ICMP unreachable for UDP
  const cases: [string, string, number][] = [
    ['none', '# no nameservers\n', 500],
    ['closed', `nameserver 127.0.0.1:${closedPort}\n`, 500],
    ['silent', `nameserver 127.0.0.1:${(silent.address() as AddressInfo).port}\n`, 3600],
  ];
  for (const [what, conf, within] of cases) {
    writeFileSync(join(dir, `resolv-${what}.conf`), conf);
    const dns = await startClusterDNS({ api, bindAddress: '127.0.0.1', port: 0, clusterDomain: 'cluster.local', resolvConf: join(dir, `resolv-${what}.conf`) });
    try {
      const t0 = Date.now();
      const r = await dnsQuery({ host: '127.0.0.1', port: dns.port }, 'www.example.test', 'A', { timeoutMs: 6000 });
      const ms = Date.now() - t0;
      t.is(r?.rcode, 'SERVFAIL', what);
      t.true(ms < within, `${what}: SERVFAIL after ${ms} ms`);
      t.deepEqual(
        answerData(await dnsQuery({ host: '127.0.0.1', port: dns.port }, 'kubernetes.default.svc.cluster.local', 'A'), 'A'),
        ['10.96.0.1'],
        'the zone still answers',
      );
    } finally {
      await dns.close();
    }
  }
});

test.serial('a deleted Service stops resolving within a few seconds', async (t) => {
  const gone = await createService('gone', { ports: [{ port: 80 }] });
  await resolvesTo('gone.default.svc.cluster.local', [gone.spec!.clusterIP!]);
  const t0 = Date.now();
  await api.delete(`${svcPath}/gone`);
  await until('gone to be NXDOMAIN', async () => (await ask('gone.default.svc.cluster.local', 'A'))?.rcode === 'NXDOMAIN', 5000);
  const ms = Date.now() - t0;
  t.log(`NXDOMAIN ${ms} ms after DELETE`);
  t.true(ms < 3000);
});

test.serial('1,000 UDP queries, 50 in flight: none lost, all right', async (t) => {
  const web = await api.get<V1Service>(`${svcPath}/web`);
  let right = 0;
  const lat: number[] = [];
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const t0 = performance.now();
        const r = await dnsQuery(server, 'web.default.svc.cluster.local', 'A', { timeoutMs: 2000 });
        lat.push(performance.now() - t0);
        if (answerData(r, 'A')[0] === web.spec!.clusterIP) right++;
      }),
    );
  }
  lat.sort((a, b) => a - b);
  t.log(`p50 ${lat[499].toFixed(2)} ms, p99 ${lat[989].toFixed(2)} ms`);
  t.is(right, 1000);
});

const isRoot = process.getuid?.() === 0;
(isRoot ? test.serial : test.serial.skip)(
  'inside a netns with a ClusterFirst resolv.conf: glibc and busybox resolve short, partial and full names',
  async (t) => {
    const id = Math.random().toString(16).slice(2, 8);
    const ns = `hdns-${id}`;
    const [a, b] = [`hd${id}a`, `hd${id}b`];
    const octet = 1 + (parseInt(id.slice(0, 2), 16) % 250);
    const hostIP = `10.253.${octet}.1`;
    const cmd = (args: string[]) => run(args[0], args.slice(1), { timeout: 10_000 });
    const inNs = (args: string[]): Promise<{ stdout: string; code: number }> =>
      run('ip', ['netns', 'exec', ns, ...args], { timeout: 10_000 }).then(
        (r) => ({ stdout: r.stdout, code: 0 }),
        (e) => ({ stdout: String(e.stdout ?? ''), code: typeof e.code === 'number' ? e.code : -1 }),
      );
    try {
      await cmd(['ip', 'netns', 'add', ns]);
      await cmd(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      await cmd(['ip', 'link', 'set', b, 'netns', ns]);
      await cmd(['ip', 'addr', 'add', `${hostIP}/30`, 'dev', a]);
      await cmd(['ip', 'link', 'set', a, 'up']);
      await cmd(['ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `10.253.${octet}.2/30`, 'dev', b]);
      await cmd(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', b, 'up']);
      await cmd(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      // `ip netns exec` mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: the pod's view
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      writeFileSync(
        `/etc/netns/${ns}/resolv.conf`,
        `nameserver ${hostIP}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n`,
      );
      const dns = await startClusterDNS({ api, bindAddress: hostIP, port: 53, clusterDomain: 'cluster.local', resolvConf: join(dir, 'resolv.conf') });
      try {
        const web = (await api.get<V1Service>(`${svcPath}/web`)).spec!.clusterIP!;
        for (const name of ['web', 'web.default', 'web.default.svc', 'web.default.svc.cluster.local']) {
          const r = await inNs(['getent', 'hosts', name]);
          t.regex(r.stdout, new RegExp(`^${web.replace(/\./g, '\\.')}\\s`), `glibc: ${name}`);
        }
        t.regex((await inNs(['getent', 'hosts', 'kubernetes.default'])).stdout, /^10\.96\.0\.1\s/);
        t.is((await inNs(['getent', 'hosts', 'nope'])).code, 2, 'a missing short name is "not found" (getent exit 2)');
        t.regex((await inNs(['getent', 'hosts', 'www.example.test'])).stdout, /^192\.0\.2\.10\s/, 'outside names are forwarded');
        const bb = await inNs(['busybox', 'nslookup', 'db.default.svc.cluster.local']);
        t.regex(bb.stdout, /10\.244\.1\.5/);
        t.regex(bb.stdout, /10\.244\.2\.6/);
        const srv = await inNs(['busybox', 'nslookup', '-type=srv', '_pg._tcp.db.default.svc.cluster.local']);
        t.regex(srv.stdout, /5432 db-0\.db\.default\.svc\.cluster\.local/);
      } finally {
        await dns.close();
      }
    } finally {
      await cmd(['ip', 'link', 'del', a]).catch(() => undefined);
      await cmd(['ip', 'netns', 'del', ns]).catch(() => undefined);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
  },
);
