// NetworkPolicy's per-packet rule cost in iptables mode, without a lab (root; a companion to
// bench/netpol-packets.ts for a loaded host). The lab bench's figure, new connections/s, swings by
// 30-50% between rounds at load 15-25, far more than the 5% it must resolve. This one renders the
// same 100 policies (plan.ts, restore.ts) into two network namespaces joined by a veth, with
// conntrack off (NOTRACK), so every packet walks HAWSER-NETPOL and the pod chain as a connection's
// first packet does; a client sends batches of UDP datagrams to a selected address and to one no
// policy selects, alternating, and the figure is the fastest batch of each (the least disturbed by
// other work on the host): their difference is what the policies add to each new connection.
// Measured at load 14-20, two runs each: one set-match rule per policy (101 rules, 100 ipsets),
// 24.8 and 36.0 us a packet; merged (2 rules, 1 ipset), 1.1 and 1.6 us.
import { execFileSync, spawnSync } from 'node:child_process';
import type { NpPolicy } from '../agents/netpol/model.ts';
import { plan } from '../agents/netpol/plan.ts';
import { steps } from '../agents/netpol/restore.ts';

const POLICIES = 100;
const BATCHES = Number(process.env.NETPOL_WALK_BATCHES ?? 40);
const PACKETS = 20_000;
const [CLIENT, SERVER, PLAIN] = ['192.0.2.1', '192.0.2.10', '192.0.2.11'];
const tag = `hnpw${process.pid}`;
const [nc, nr] = [`${tag}c`, `${tag}r`];

const policy = (i: number): NpPolicy => ({
  namespace: 'bench',
  name: `np-${String(i).padStart(3, '0')}`,
  spec: {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { team: `t${i}` } } }], ports: [{ port: 8080, protocol: 'UDP' }] }],
  },
});
const pod = (name: string, ip: string, node: string, labels: Record<string, string>) => ({ namespace: 'bench', name, ip, node, labels, ports: [] });
const p = plan({
  node: 'n0',
  policies: Array.from({ length: POLICIES }, (_, i) => policy(i)),
  // the client is allowed by the last policy only, as in the lab bench
  pods: [
    pod('server', SERVER, 'n0', { app: 'server' }),
    pod('plain', PLAIN, 'n0', { app: 'plain' }),
    pod('client', CLIENT, 'n1', { team: `t${POLICIES - 1}` }),
  ],
  namespaces: [{ name: 'bench', labels: {} }],
});
const s = steps({ chains: [], sets: [] }, p);

const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'inherit'] }).toString();
const inNs = (ns: string, cmd: string, args: string[], input?: string) => sh('ip', ['netns', 'exec', ns, cmd, ...args], input);

// batches of PACKETS datagrams on one connected socket, alternating targets; prints each batch's ns per packet
const SENDER = `
import socket, sys, time, json
n, batches, targets = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
socks = {t: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for t in targets}
for t, so in socks.items(): so.connect((t, 8080))
out = {t: [] for t in targets}
for b in range(batches):
    for t in (targets if b % 2 == 0 else targets[::-1]):
        so = socks[t]; send = so.send; x = b'x'
        t0 = time.perf_counter_ns()
        for _ in range(n):
            try: send(x)
            except OSError: pass
        out[t].append((time.perf_counter_ns() - t0) / n)
print(json.dumps(out))
`;

for (const ns of [nc, nr]) sh('ip', ['netns', 'add', ns]);
try {
  sh('ip', ['link', 'add', `${tag}a`, 'netns', nc, 'type', 'veth', 'peer', 'name', `${tag}b`, 'netns', nr]);
  inNs(nc, 'ip', ['addr', 'add', `${CLIENT}/24`, 'dev', `${tag}a`]);
  inNs(nc, 'ip', ['link', 'set', `${tag}a`, 'up']);
  for (const ip of [SERVER, PLAIN]) inNs(nr, 'ip', ['addr', 'add', `${ip}/24`, 'dev', `${tag}b`]);
  inNs(nr, 'ip', ['link', 'set', `${tag}b`, 'up']);
  inNs(nr, 'ipset', ['restore', '-exist'], s.sets);
  inNs(
    nr,
    'iptables-restore',
    ['--noflush'],
    `${s.rules.replace(/\nCOMMIT\n$/, '')}\n-A INPUT -j HAWSER-NETPOL\nCOMMIT\n*raw\n-A PREROUTING -j NOTRACK\nCOMMIT\n`,
  );
  const chainRules = [...p.chains].filter(([c]) => c !== 'HAWSER-NETPOL').map(([, r]) => r.length);
  const run = spawnSync('ip', ['netns', 'exec', nc, 'python3', '-c', SENDER, String(PACKETS), String(BATCHES), PLAIN, SERVER], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  const out = JSON.parse(run.stdout) as Record<string, number[]>;
  const min = (xs: number[]) => Math.min(...xs);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [plain, server] = [out[PLAIN], out[SERVER]];
  // every datagram to the server must have passed its chain (the client is allowed), none refused
  const rejected = Number(/(\d+)\s+\d+\s+REJECT/.exec(inNs(nr, 'iptables', ['-L', '-v', '-x', '-n']))?.[1] ?? 0);
  if (rejected) throw new Error(`${rejected} datagrams refused: the rules do not allow the client`);
  console.log(`server's pod chain: ${chainRules.join(',')} rules; ipsets ${p.sets.size}`);
  console.log(
    `RESULT iptables per-packet cost of ${POLICIES} policies: ${(min(server) - min(plain)).toFixed(0)} ns (fastest batch ${min(plain).toFixed(0)} -> ${min(server).toFixed(0)} ns/packet, +${((min(server) / min(plain) - 1) * 100).toFixed(1)}%; medians ${median(plain).toFixed(0)} -> ${median(server).toFixed(0)}; ${BATCHES} batches of ${PACKETS})`,
  );
} finally {
  for (const ns of [nc, nr]) spawnSync('ip', ['netns', 'del', ns]);
}
