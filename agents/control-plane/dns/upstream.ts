// Forwarding of names outside the cluster zone to the upstream resolvers of a resolv.conf.
// Every exchange is bounded: a try per upstream with its own timeout inside an overall deadline,
// connected UDP sockets so that a closed port (ICMP unreachable) fails at once, and undefined when
// nothing answered so the caller sends SERVFAIL instead of leaving the client waiting.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import net, { isIP, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../../api/log.ts';

export interface Upstream {
  host: string;
  port: number;
}

/**
 * The nameserver lines of a resolv.conf. Besides plain addresses it takes `ip:port` and
 * `[ipv6]:port` (as CoreDNS's forward does), so a test or an operator can name a resolver on a
 * non-standard port; libc resolvers never read this file's copy, only hawser does.
 */
export function parseNameservers(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const raw of text.split('\n')) {
    const [word, value] = raw
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (word !== 'nameserver' || !value) continue;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
    const v4port = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(value);
    const [host, port] = bracket ? [bracket[1], bracket[2]] : v4port ? [v4port[1], v4port[2]] : [value, undefined];
    const p = port === undefined ? 53 : Number(port);
    if (isIP(host.split('%')[0]) && p > 0 && p < 65536) out.push({ host, port: p });
  }
  return out;
}

const isWildcard = (a: string) => a === '' || a === '0.0.0.0' || a === '::';
const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/** Drops upstreams that are this server itself (forwarding to ourselves would loop until timeout). */
export function withoutSelf(ups: Upstream[], bindAddress: string, port: number, localAddresses: string[]): Upstream[] {
  return ups.filter((u) => {
    if (u.port !== port) return true;
    if (u.host === bindAddress) return false;
    return !(isWildcard(bindAddress) && (isLoopback(u.host) || localAddresses.includes(u.host)));
  });
}

export const localAddresses = (): string[] => Object.values(networkInterfaces()).flatMap((l) => (l ?? []).map((a) => a.address));

export interface ForwardOptions {
  /** one upstream's turn (ms) */
  tryTimeoutMs?: number;
  /** all upstreams together (ms): below the 5 s a libc resolver waits per try */
  deadlineMs?: number;
  /** forwarded queries in flight at once; beyond this, SERVFAIL at once */
  maxInflight?: number;
}

const RCODE_SERVFAIL = 2;
const RCODE_REFUSED = 5;

/** A settle-once callback: the first result wins, then the timer and the socket go. */
function settleOnce(resolve: (b: Buffer | undefined) => void, timeoutMs: number, cleanup: () => void): (b?: Buffer) => void {
  let done = false;
  const finish = (b?: Buffer) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    try {
      cleanup();
    } catch {
      /* already closed */
    }
    resolve(b);
  };
  const timer = setTimeout(() => finish(), timeoutMs);
  return finish;
}

export function udpExchange(up: Upstream, msg: Buffer, id: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(isIPv6(up.host) ? 'udp6' : 'udp4');
    const finish = settleOnce(resolve, timeoutMs, () => sock.close());
    sock.on('error', () => finish());
    sock.on('message', (m) => {
      if (m.length >= 12 && m.readUInt16BE(0) === id && m[2] & 0x80) finish(m);
    });
    sock.connect(up.port, up.host, () =>
      sock.send(msg, (err) => {
        if (err) finish();
      }),
    );
  });
}

export function tcpExchange(up: Upstream, msg: Buffer, id: number, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: up.host, port: up.port });
    const finish = settleOnce(resolve, timeoutMs, () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    sock.on('error', () => finish());
    sock.on('close', () => finish());
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(msg.length);
      sock.write(Buffer.concat([len, msg]));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) return;
      const m = buf.subarray(2, 2 + n);
      finish(m.length >= 12 && m.readUInt16BE(0) === id ? m : undefined);
    });
  });
}

export class Forwarder {
  private cached: Upstream[] = [];
  private mtimeMs = -1;
  private checkedAt = 0;
  private inflight = 0;
  private preferred = 0;
  private readonly tryTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxInflight: number;

  constructor(
    private readonly resolvConf: string,
    private readonly self: { bindAddress: string; port: number },
    private readonly log: Logger,
    o: ForwardOptions = {},
  ) {
    this.tryTimeoutMs = o.tryTimeoutMs ?? 1500;
    this.deadlineMs = o.deadlineMs ?? 3000;
    this.maxInflight = o.maxInflight ?? 1024;
  }

  /** The upstream list, re-read when the file changes (checked at most every 5 s). */
  upstreams(): Upstream[] {
    const now = Date.now();
    if (now - this.checkedAt < 5000 && this.mtimeMs >= 0) return this.cached;
    this.checkedAt = now;
    try {
      const st = statSync(this.resolvConf);
      if (st.mtimeMs === this.mtimeMs) return this.cached;
      this.mtimeMs = st.mtimeMs;
      const all = parseNameservers(readFileSync(this.resolvConf, 'utf8'));
      this.cached = withoutSelf(all, this.self.bindAddress, this.self.port, localAddresses());
      this.preferred = 0;
      if (all.length !== this.cached.length)
        this.log.warn({ dropped: all.length - this.cached.length }, 'upstream resolvers that are this server itself are skipped');
      if (!this.cached.length) this.log.warn({ resolvConf: this.resolvConf }, 'no upstream resolvers: names outside the cluster get SERVFAIL');
    } catch (err) {
      if (this.mtimeMs !== -2)
        this.log.warn({ err: String(err), resolvConf: this.resolvConf }, 'cannot read resolv.conf: names outside the cluster get SERVFAIL');
      this.cached = [];
      this.mtimeMs = -2;
    }
    return this.cached;
  }

  /** Sends a raw query upstream; the answer carries the query's own id, or undefined when none came. */
  async forward(query: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    const ups = this.upstreams();
    if (!ups.length || query.length < 12 || this.inflight >= this.maxInflight) return undefined;
    this.inflight++;
    try {
      const origId = query.readUInt16BE(0);
      const id = randomInt(0, 65536);
      const msg = Buffer.from(query);
      msg.writeUInt16BE(id, 0);
      const deadline = Date.now() + this.deadlineMs;
      let fallback: Buffer | undefined;
      for (let i = 0; i < ups.length; i++) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        const k = (this.preferred + i) % ups.length;
        const up = ups[k];
        const res = await (tcp ? tcpExchange : udpExchange)(up, msg, id, Math.min(this.tryTimeoutMs, left));
        if (!res) continue;
        const out = Buffer.from(res);
        out.writeUInt16BE(origId, 0);
        const rcode = out[3] & 0x0f;
        // an upstream that fails or refuses lets the next one try, as a libc resolver would
        if ((rcode === RCODE_SERVFAIL || rcode === RCODE_REFUSED) && i < ups.length - 1) {
          fallback = out;
          continue;
        }
        this.preferred = k;
        return out;
      }
      return fallback;
    } finally {
      this.inflight--;
    }
  }
}
