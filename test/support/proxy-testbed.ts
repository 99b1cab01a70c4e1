// A throwaway network for the proxy's packet tests and benchmark (never imported by the agent): two
// "nodes" joined by a link, each with a pod bridge, backend pods that answer with their name and
// the client address they saw, and a client pod. Every name carries a random suffix; destroy()
// removes what create() made, also after a half-finished create.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { systemEnv } from '../../agents/api/system-path.ts';

// the system's tools, not node_modules/.bin's (whose `nft` is @vercel/nft: a check through it
// read "0 tables" whatever the kernel held)
const run = (cmd: string, args: string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 20_000, env: systemEnv() });
const inNs = (ns: string, cmd: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, cmd, ...args]);

/** Answers TCP on PORT and UDP on PORT+1 with "<name> <client address>". */
const BACKEND_JS = `
const net = require('net'); const dgram = require('dgram');
const [name, port] = [process.argv[1], Number(process.argv[2])];
net.createServer((s) => { s.on('error', () => {}); s.end(name + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n'); }).listen(port, '0.0.0.0');
const u = dgram.createSocket('udp4'); u.on('message', (m, r) => u.send(name + ' ' + r.address + '\\n', r.port, r.address)); u.bind(port + 1, '0.0.0.0');
setInterval(() => {}, 1 << 30);
`;

/** GET on a loopback port: status and body text. */
export function httpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

export interface Pod {
  ns: string;
  ip: string;
  node: 1 | 2;
}

export class Testbed {
  readonly id = randomBytes(3).toString('hex');
  readonly node1 = `kp${this.id}n1`;
  readonly node2 = `kp${this.id}n2`;
  readonly node1IP = '192.168.77.1';
  readonly node2IP = '192.168.77.2';
  readonly pods = new Map<string, Pod>();
  private namespaces: string[] = [];
  private procs: ChildProcess[] = [];

  /** A bare namespace with loopback up (the benchmark needs no more). */
  addNamespace(ns: string): string {
    run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    return ns;
  }

  create(podSpecs: Array<{ name: string; node: 1 | 2 }>): this {
    for (const n of [this.node1, this.node2]) {
      this.addNamespace(n);
      inNs(n, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    }
    run('ip', ['link', 'add', `kp${this.id}l1`, 'netns', this.node1, 'type', 'veth', 'peer', 'name', `kp${this.id}l2`, 'netns', this.node2]);
    inNs(this.node1, 'ip', 'addr', 'add', `${this.node1IP}/24`, 'dev', `kp${this.id}l1`);
    inNs(this.node2, 'ip', 'addr', 'add', `${this.node2IP}/24`, 'dev', `kp${this.id}l2`);
    inNs(this.node1, 'ip', 'link', 'set', `kp${this.id}l1`, 'up');
    inNs(this.node2, 'ip', 'link', 'set', `kp${this.id}l2`, 'up');
    for (const [node, ns, other] of [
      [1, this.node1, this.node2IP],
      [2, this.node2, this.node1IP],
    ] as const) {
      inNs(ns, 'ip', 'link', 'add', 'cbr0', 'type', 'bridge');
      inNs(ns, 'ip', 'addr', 'add', `10.244.${node}.1/24`, 'dev', 'cbr0');
      inNs(ns, 'ip', 'link', 'set', 'cbr0', 'up');
      inNs(ns, 'ip', 'route', 'add', `10.244.${3 - node}.0/24`, 'via', other);
    }
    // a node has a default route; without one, Service IPs are unreachable before any NAT
    inNs(this.node1, 'ip', 'route', 'add', 'default', 'via', this.node2IP);
    const next = { 1: 2, 2: 2 };
    for (const spec of podSpecs) {
      const ns = this.addNamespace(`kp${this.id}${spec.name}`);
      const ip = `10.244.${spec.node}.${next[spec.node]++}`;
      const host = `kp${this.id}${spec.name}h`;
      const nodeNs = spec.node === 1 ? this.node1 : this.node2;
      run('ip', ['link', 'add', host, 'netns', nodeNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      inNs(nodeNs, 'ip', 'link', 'set', host, 'master', 'cbr0');
      inNs(nodeNs, 'ip', 'link', 'set', host, 'type', 'bridge_slave', 'hairpin', 'on');
      inNs(nodeNs, 'ip', 'link', 'set', host, 'up');
      inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
      inNs(ns, 'ip', 'route', 'add', 'default', 'via', `10.244.${spec.node}.1`);
      this.pods.set(spec.name, { ns, ip, node: spec.node });
    }
    return this;
  }

  /** Starts the answering server in a pod: TCP on port, UDP on port+1. */
  serve(pod: string, port: number): void {
    const p = this.pods.get(pod)!;
    const child = spawn('nsenter', [`--net=/run/netns/${p.ns}`, '--', process.execPath, '-e', BACKEND_JS, pod, String(port)], { stdio: 'ignore' });
    this.procs.push(child);
  }

  /** Waits until every backend answers on its own address. */
  async ready(port: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const [name, p] of this.pods) {
      if (name.startsWith('cli')) continue;
      for (;;) {
        if (this.tcp(p.ns, p.ip, port).startsWith(name)) break;
        if (Date.now() > deadline) throw new Error(`backend ${name} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** One TCP exchange from a namespace: the reply, or the error text. */
  tcp(ns: string, ip: string, port: number): string {
    return this.sh(ns, `busybox nc -w 2 ${ip} ${port} </dev/null 2>&1 || true`).trim();
  }

  /** n TCP exchanges in one shell (fast): one reply or error line each. */
  tcpMany(ns: string, ip: string, port: number, n: number): string[] {
    const out = this.sh(ns, `for i in $(seq ${n}); do busybox nc -w 2 ${ip} ${port} </dev/null 2>&1 || echo FAILED; done`);
    return out.split('\n').filter(Boolean);
  }

  /** One UDP datagram from a fixed source port; the reply or '' (busybox nc has no UDP). */
  udp(ns: string, ip: string, port: number, sport: number): string {
    const js = `const s = require('dgram').createSocket('udp4');
      const done = (t) => { process.stdout.write(t); process.exit(0); };
      s.on('message', (m) => done(String(m))); setTimeout(() => done(''), 1500);
      s.bind(${sport}, () => s.send('hi', ${port}, '${ip}'));`;
    return run('nsenter', [`--net=/run/netns/${ns}`, '--', process.execPath, '-e', js]).trim();
  }

  sh(ns: string, script: string): string {
    return run('ip', ['netns', 'exec', ns, 'sh', '-c', script]);
  }

  destroy(): void {
    for (const p of this.procs) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of this.namespaces.reverse()) {
      // processes left in a namespace keep it alive: kill them first
      try {
        const pids = run('ip', ['netns', 'pids', ns]).split('\n').filter(Boolean);
        if (pids.length) run('kill', ['-9', ...pids]);
      } catch {
        /* none */
      }
      try {
        run('ip', ['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
    this.namespaces = [];
  }
}
