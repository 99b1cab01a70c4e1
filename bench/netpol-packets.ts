// NetworkPolicy's packet-path cost (`make bench-netpol`, second part; root): the rate of new
// pod-to-pod HTTP connections, one request each, from a client pod on one lab node to a server pod
// on the other, with no policy and with 100 policies selecting the server (the client allowed by
// the last one, so each new connection walks the whole pod chain in iptables mode). Load
// generator and server are Node.js processes run in the two pods' network namespaces (pause
// pods), so the packets are the pods' own; rounds alternate none/100 and the medians are compared
// (target: at most 5% lower). Measures iptables mode, then switches the lab to nftables mode and
// measures again. Lab: NETPOL_BENCH_LAB / NETPOL_BENCH_SUBNET (default npbench, 10.93.0.0/24), or
// the lab of HAWSER_E2E_KUBECONFIG; a lab of its own is taken down after.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { systemEnv } from '../agents/api/system-path.ts';
import type { LabNode } from '../agents/cli/lab/topology.ts';
import { CriClient } from '../agents/kubelet/cri/client.ts';
import { POD_NAME, POD_NAMESPACE } from '../agents/kubelet/pods/labels.ts';
import { downLab, eventually, kubectlJson, kubectlOk, upLab, type NodeLab } from '../test/e2e/helpers/node-e2e.ts';
import { inNode, switchToNftables } from '../test/e2e/helpers/netpol-e2e.ts';

const LAB = process.env.NETPOL_BENCH_LAB ?? 'npbench';
const SUBNET = process.env.NETPOL_BENCH_SUBNET ?? '10.93.0.0/24';
const ROUNDS = 3;
const SECONDS = 5;
const CONCURRENCY = 8;
const POLICIES = 100;
const ns = `npbench-${randomBytes(3).toString('hex')}`;

const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(8080, () => console.log('listening'))`;
// new connection per request (agent: false), CONCURRENCY in flight, for SECONDS; prints the count
const CLIENT = `const http = require('http'); const [ip, secs, conc] = process.argv.slice(1); const end = Date.now() + secs * 1000; let n = 0, fail = 0;
const one = () => new Promise((r) => { const q = http.get({ host: ip, port: 8080, agent: false, timeout: 3000 }, (s) => { s.resume(); s.on('end', () => { n++; r(); }); }); q.on('timeout', () => q.destroy()); q.on('error', () => { fail++; r(); }); });
const worker = async () => { while (Date.now() < end) await one(); };
Promise.all(Array.from({ length: +conc }, worker)).then(() => console.log(JSON.stringify({ n, fail })));`;

/** The network namespace of a pod's sandbox, from the CRI's verbose status. */
async function podNetns(n: LabNode, name: string): Promise<string> {
  const c = new CriClient(n.socket, { timeoutMs: 10_000 });
  try {
    const [sb] = await c.listPodSandbox({ labelSelector: { [POD_NAME]: name, [POD_NAMESPACE]: ns } });
    const info = JSON.parse((await c.podSandboxStatus(sb.id, true)).info.info ?? '{}') as {
      runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
    };
    const path = info.runtimeSpec?.linux?.namespaces?.find((x) => x.type === 'network')?.path;
    if (!path) throw new Error(`no network namespace for ${name}`);
    return path;
  } finally {
    c.close();
  }
}

const inNetns = (path: string, args: string[]): ChildProcess =>
  spawn('nsenter', [`--net=${path}`, '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: systemEnv() });

function runClient(path: string, ip: string): Promise<{ n: number; fail: number }> {
  return new Promise((resolve, reject) => {
    const p = inNetns(path, ['-e', CLIENT, ip, String(SECONDS), String(CONCURRENCY)]);
    let out = '';
    const kill = setTimeout(() => p.kill('SIGKILL'), (SECONDS + 20) * 1000);
    p.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
    });
    p.on('close', () => {
      clearTimeout(kill);
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`client: ${out}`));
      }
    });
  });
}

const pod = (name: string, node: string, labels: Record<string, string>, image: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image }] },
});
const policy = (i: number) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: `np-${String(i).padStart(3, '0')}`, namespace: ns },
  spec: {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { team: `t${i}` } } }], ports: [{ port: 8080 }] }],
  },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(L: NodeLab, mode: string, serverNode: LabNode, clientNs: string, serverIp: string): Promise<void> {
  const rates: Record<'none' | 'policies', number[]> = { none: [], policies: [] };
  const rulesOnServerNode = () =>
    (mode === 'nftables' ? inNode(serverNode, 'nft', ['list', 'table', 'ip', 'hawser-netpol']) : inNode(serverNode, 'iptables-save', ['-t', 'filter'])).split(
      'ingress[0]',
    ).length - 1;
  for (let r = 0; r < ROUNDS; r++) {
    for (const which of ['none', 'policies'] as const) {
      if (which === 'policies') {
        await kubectlOk(
          L.kc,
          ['apply', '-f', '-'],
          JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: POLICIES }, (_, i) => policy(i)) }),
        );
        await eventually(`${POLICIES} policies in the kernel`, async () => rulesOnServerNode() >= POLICIES, 60_000, 500);
      } else {
        await kubectlOk(L.kc, ['-n', ns, 'delete', 'networkpolicy', '--all']);
        await eventually('no policy in the kernel', async () => rulesOnServerNode() === 0, 60_000, 500);
      }
      const { n, fail } = await runClient(clientNs, serverIp);
      if (fail) throw new Error(`${fail} requests failed (${which})`);
      rates[which].push(n / SECONDS);
    }
  }
  const none = median(rates.none);
  const with100 = median(rates.policies);
  console.log(`${mode}: rounds none ${rates.none.map(Math.round).join('/')} req/s, ${POLICIES} policies ${rates.policies.map(Math.round).join('/')} req/s`);
  console.log(
    `RESULT ${mode} packet path: ${Math.round(none)} -> ${Math.round(with100)} new connections/s with ${POLICIES} policies (${(((with100 - none) / none) * 100).toFixed(1)}%; target >= -5%)`,
  );
}

const L = await upLab(LAB, SUBNET);
let server: ChildProcess | undefined;
try {
  const [n0, n1] = L.lab.nodes;
  await kubectlOk(L.kc, ['create', 'namespace', ns]);
  await kubectlOk(
    L.kc,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [pod('server', n0.name, { app: 'server' }, L.pause), pod('client', n1.name, { team: `t${POLICIES - 1}` }, L.pause)],
    }),
  );
  const serverPod = await eventually(
    'server running',
    async () => {
      const p = await kubectlJson(L.kc, ['-n', ns, 'get', 'pod', 'server']);
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    },
    90_000,
  );
  await eventually('client running', async () => (await kubectlJson(L.kc, ['-n', ns, 'get', 'pod', 'client'])).status?.phase === 'Running', 90_000);
  const serverIp: string = serverPod.status.podIP;
  const sp = inNetns(await podNetns(n0, 'server'), ['-e', SERVER]);
  server = sp;
  await new Promise<void>((res, rej) => {
    sp.stdout!.once('data', () => res());
    sp.once('exit', (c) => rej(new Error(`server exited ${c}`)));
  });
  const clientNs = await podNetns(n1, 'client');
  const modes = (process.env.NETPOL_BENCH_MODES ?? 'iptables,nftables').split(',');
  for (const mode of modes) {
    if (mode === 'nftables') for (const n of [n0, n1]) await switchToNftables(L, n);
    await measure(L, mode, n0, clientNs, serverIp);
  }
} finally {
  server?.kill();
  await kubectlOk(L.kc, ['delete', 'namespace', ns, '--wait=false']).catch(() => '');
  await downLab(LAB, SUBNET);
}
