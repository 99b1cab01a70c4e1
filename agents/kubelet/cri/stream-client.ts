// Client side of the CRI streaming server (the URLs that Exec and PortForward return), over
// WebSocket with the Kubernetes channel protocol v4.channel.k8s.io: every binary frame starts with
// one byte naming its channel. Exec: 0 stdin, 1 stdout, 2 stderr, 3 the final Status as JSON.
// PortForward: per requested port a data and an error channel, each opened by a frame holding the
// port as two little-endian bytes. containerd 1.6 also speaks SPDY/3.1 on the same URLs; a kubelet
// that relays a client's upgrade request byte for byte needs neither.
import { Duplex } from 'node:stream';
import WebSocket from 'ws';

export const CHANNEL_PROTOCOL = 'v4.channel.k8s.io';

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  /** the runtime's status message for a failure */
  message?: string;
}

interface StatusFrame {
  status?: string;
  message?: string;
  reason?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** Exit code from the v4 status frame: Success is 0, NonZeroExitCode carries it in an ExitCode cause. */
export function exitCodeOf(s: StatusFrame): number {
  if (s.status === 'Success') return 0;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (s.reason === 'NonZeroExitCode' && cause?.message && /^\d+$/.test(cause.message)) return Number(cause.message);
  throw new Error(`exec failed: ${s.message ?? JSON.stringify(s)}`);
}

const toWs = (url: string) => url.replace(/^http(s?):/, 'ws$1:');

/** Runs the exec prepared by CriClient.exec(url) to completion; stdin (if any) is sent first. */
export function execStream(url: string, o: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(toWs(url), [CHANNEL_PROTOCOL]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let status: StatusFrame | undefined;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`exec stream ${url}: no end after ${o.timeoutMs ?? 30_000} ms`));
    }, o.timeoutMs ?? 30_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    ws.on('open', () => {
      if (ws.protocol !== CHANNEL_PROTOCOL) return fail(new Error(`exec stream: server chose protocol ${JSON.stringify(ws.protocol)}`));
      // v4 has no way to close stdin alone: the command must not wait for EOF
      if (o.stdin !== undefined) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(o.stdin)]));
    });
    ws.on('message', (data: Buffer) => {
      const body = data.subarray(1);
      if (data[0] === 1) out.push(body);
      else if (data[0] === 2) err.push(body);
      else if (data[0] === 3) status = JSON.parse(body.toString()) as StatusFrame;
    });
    ws.on('unexpected-response', (_req, res) => fail(new Error(`exec stream ${url}: HTTP ${res.statusCode}`)));
    ws.on('error', fail);
    ws.on('close', () => {
      clearTimeout(timer);
      if (!status) return reject(new Error(`exec stream ${url}: closed without a status`));
      try {
        const exitCode = exitCodeOf(status);
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode, message: exitCode ? status.message : undefined });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/**
 * A byte stream to `port` inside the pod, from CriClient.portForward(sandboxId, [port]).
 * Resolves once the runtime has opened the port's channels.
 */
export function portForwardStream(url: string, port: number, timeoutMs = 10_000): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${toWs(url)}?port=${port}`, [CHANNEL_PROTOCOL]);
    const opened = new Set<number>();
    let errorText = '';
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        ws.send(Buffer.concat([Buffer.from([0]), chunk]), cb);
      },
      final(cb) {
        ws.close();
        cb();
      },
      destroy(e, cb) {
        ws.terminate();
        cb(e);
      },
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`port-forward ${url}: port ${port} not opened after ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', (data: Buffer) => {
      const ch = data[0]!;
      const body = data.subarray(1);
      if (!opened.has(ch)) {
        // the first frame of each channel names the port
        opened.add(ch);
        if (opened.size === 2) {
          clearTimeout(timer);
          resolve(stream);
        }
        return;
      }
      if (ch === 0) stream.push(body);
      else errorText += body.toString();
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`port-forward ${url}: HTTP ${res.statusCode}`));
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
      stream.destroy(e);
    });
    ws.on('close', () => {
      if (errorText) stream.destroy(new Error(`port-forward to ${port}: ${errorText}`));
      else stream.push(null);
    });
  });
}
