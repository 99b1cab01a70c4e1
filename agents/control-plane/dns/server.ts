// The DNS listeners: UDP and TCP on one address and port (port 0 picks a free one for both).
// TCP follows RFC 7766: length-prefixed messages, several per connection, answered as they finish,
// idle connections closed.
import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import type { Logger } from '../../api/log.ts';
import { handleMessage } from './message.ts';
import type { DnsIndex } from './records.ts';

export interface DnsServerOptions {
  bindAddress: string;
  port: number;
  index: () => DnsIndex;
  forward(query: Buffer, tcp: boolean): Promise<Buffer | undefined>;
  log: Logger;
}

export interface DnsServer {
  port: number;
  close(): Promise<void>;
}

const TCP_IDLE_MS = 10_000;
const BIND_TRIES = 8;

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket({ type: isIPv6(host) || host === '::' ? 'udp6' : 'udp4' });
    sock.once('error', reject);
    sock.bind(port, host, () => {
      sock.off('error', reject);
      resolve(sock);
    });
  });
}

function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function serveTcpConnection(sock: net.Socket, o: DnsServerOptions): void {
  let buf: Buffer = Buffer.alloc(0);
  sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
  sock.on('error', () => sock.destroy());
  sock.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 2) {
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) break;
      const msg = buf.subarray(2, 2 + n);
      buf = buf.subarray(2 + n);
      void handleMessage(msg, { index: o.index(), forward: o.forward, tcp: true }).then(
        (res) => {
          if (!res || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(res.length);
          sock.write(Buffer.concat([len, res]));
        },
        (err) => o.log.warn({ err: String(err) }, 'dns tcp message failed'),
      );
    }
  });
}

export async function serveDns(o: DnsServerOptions): Promise<DnsServer> {
  let udp: dgram.Socket | undefined;
  const tcp = net.createServer((s) => serveTcpConnection(s, o));
  const conns = new Set<net.Socket>();
  tcp.on('connection', (s) => {
    conns.add(s);
    s.on('close', () => conns.delete(s));
  });
  // UDP first (it picks the port when asked for 0), then TCP on the same port; a random port
  // taken for TCP by someone else is retried with another one
  for (let i = 0; ; i++) {
    udp = await bindUdp(o.bindAddress, o.port);
    const port = udp.address().port;
    try {
      await listenTcp(tcp, o.bindAddress, port);
      break;
    } catch (err) {
      udp.close();
      if (o.port !== 0 || i >= BIND_TRIES) throw err;
    }
  }
  const u = udp;
  u.on('message', (msg, rinfo) => {
    void handleMessage(msg, { index: o.index(), forward: o.forward, tcp: false }).then(
      (res) => {
        if (!res) return;
        try {
          u.send(res, rinfo.port, rinfo.address);
        } catch {
          /* closed while the answer was on its way */
        }
      },
      (err) => o.log.warn({ err: String(err) }, 'dns udp message failed'),
    );
  });
  u.on('error', (err) => o.log.warn({ err: String(err) }, 'dns udp socket error'));
  const port = u.address().port;
  return {
    port,
    close: async () => {
      await new Promise<void>((r) => u.close(() => r()));
      for (const s of conns) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  };
}
