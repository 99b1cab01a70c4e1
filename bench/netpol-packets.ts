// NetworkPolicy's packet-path cost (`make bench-netpol`, second part; root): the rate of new
// pod-to-pod HTTP connections, one request each, from a client pod on one lab node to a server pod
// on the other, to a server selected by 100 policies (the client allowed by the last one: before
// iptables mode merged a pod's rules into one set match, each new connection walked all 100)
// against a server on the same node that no policy selects. Load generator and servers are
// Node.js processes run in the pods' network namespaces (pause pods), so the packets are the pods' own.
// Why two servers: the first version applied and deleted the 100 policies between rounds, and
// three 5 s rounds per arm differed by 15-30% (the control plane and podnet were still busy with
// the change, and the host drifted between rounds), more than the 5% it had to resolve. Now the
// policies stay, rounds alternate between the two servers (ROUNDS short pairs), and the figure is
// the median of each pair's ratio, which cancels drift slower than a pair; the pairs' spread is
// printed beside it (target: at most 5% lower). Measures iptables mode, then switches the lab to
// nftables mode and measures again. Lab: NETPOL_BENCH_LAB / NETPOL_BENCH_SUBNET (default
// npbench, 10.93.0.0/24), or the lab of HAWSER_E2E_KUBECONFIG; a lab of its own is taken down after.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { systemEnv } from '../agents/api/system-path.ts';
import type { LabNode } from '../agents/cli/lab/topology.ts';
import { CriClient } from '../agents/kubelet/cri/client.ts';
import { POD_NAME, POD_NAMESPACE } from '../agents/kubelet/pods/labels.ts';
import { downLab, eventually, kubectlJson, kubectlOk, upLab } from '../test/e2e/helpers/node-e2e.ts';
import { inNode, switchToNftables } from '../test/e2e/helpers/netpol-e2e.ts';

const LAB = process.env.NETPOL_BENCH_LAB ?? 'npbench';
const SUBNET = process.env.NETPOL_BENCH_SUBNET ?? '10.93.0.0/24';
const ROUNDS = Number(process.env.NETPOL_BENCH_ROUNDS ?? 12);
const SECONDS = 3;
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
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

interface Target {
  /** the client's network namespace and the server pod's address */
  clientNs: string;
  ip: string;
}

/** Alternates rounds to the unselected and the selected server; the median of the pairs' ratios. */
async function measure(mode: string, plain: Target, selected: Target): Promise<void> {
  const pairs: { none: number; policies: number }[] = [];
  const rate = async (t: Target) => {
    const { n, fail } = await runClient(t.clientNs, t.ip);
    if (fail) throw new Error(`${fail} requests failed (${t.ip})`);
    return n / SECONDS;
  };
  for (let r = 0; r < ROUNDS; r++) {
    // which goes first alternates too, so a trend within a pair favours neither side
    if (r % 2 === 0) pairs.push({ none: await rate(plain), policies: await rate(selected) });
    else {
      const policies = await rate(selected);
      pairs.push({ none: await rate(plain), policies });
    }
  }
  const ratios = pairs.map((p) => p.policies / p.none - 1).sort((a, b) => a - b);
  const quartile = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
  console.log(`${mode}: pairs (no policy / ${POLICIES} policies, req/s): ${pairs.map((p) => `${Math.round(p.none)}/${Math.round(p.policies)}`).join(' ')}`);
  console.log(
    `RESULT ${mode} packet path: ${Math.round(median(pairs.map((p) => p.none)))} -> ${Math.round(median(pairs.map((p) => p.policies)))} new connections/s with ${POLICIES} policies; median pair change ${pct(median(ratios))} (middle half ${pct(quartile(0.25))} to ${pct(quartile(0.75))}, ${ROUNDS} pairs; target >= -5%)`,
  );
}

/**
 * How many of the server pod's policy rules are in the kernel (ingress[0] of each policy): nftables
 * mode writes one rule each; iptables mode merges them, its comment naming the first and how many more.
 */
const rulesOnServerNode = (mode: string, node: LabNode) =>
  mode === 'nftables'
    ? inNode(node, 'nft', ['list', 'table', 'ip', 'hawser-netpol']).split('ingress[0]').length - 1
    : [...inNode(node, 'iptables-save', ['-t', 'filter']).matchAll(/ingress\[0\](?: and (\d+) more)?/g)].reduce((n, m) => n + 1 + Number(m[1] ?? 0), 0);

const L = await upLab(LAB, SUBNET);
const servers: ChildProcess[] = [];
try {
  const [n0, n1] = L.lab.nodes;
  await kubectlOk(L.kc, ['create', 'namespace', ns]);
  await kubectlOk(
    L.kc,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        pod('server', n0.name, { app: 'server' }, L.pause),
        pod('plain', n0.name, { app: 'plain' }, L.pause),
        pod('client', n1.name, { team: `t${POLICIES - 1}` }, L.pause),
      ],
    }),
  );
  const running = (name: string) =>
    eventually(
      `${name} running`,
      async () => {
        const p = await kubectlJson(L.kc, ['-n', ns, 'get', 'pod', name]);
        return p.status?.phase === 'Running' && p.status.podIP ? (p.status.podIP as string) : undefined;
      },
      90_000,
    );
  const serverIp = await running('server');
  const plainIp = await running('plain');
  await running('client');
  for (const name of ['server', 'plain']) {
    const sp = inNetns(await podNetns(n0, name), ['-e', SERVER]);
    servers.push(sp);
    await new Promise<void>((res, rej) => {
      sp.stdout!.once('data', () => res());
      sp.once('exit', (c) => rej(new Error(`${name} server exited ${c}`)));
    });
  }
  const clientNs = await podNetns(n1, 'client');
  await kubectlOk(L.kc, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: POLICIES }, (_, i) => policy(i)) }));
  const modes = (process.env.NETPOL_BENCH_MODES ?? 'iptables,nftables').split(',');
  for (const mode of modes) {
    if (mode === 'nftables') for (const n of [n0, n1]) await switchToNftables(L, n);
    await eventually(`${POLICIES} policies in the kernel (${mode})`, async () => rulesOnServerNode(mode, n0) >= POLICIES, 60_000, 500);
    await measure(mode, { clientNs, ip: plainIp }, { clientNs, ip: serverIp });
  }
} finally {
  for (const sp of servers) sp.kill();
  await kubectlOk(L.kc, ['delete', 'namespace', ns, '--wait=false']).catch(() => '');
  await downLab(LAB, SUBNET);
}
