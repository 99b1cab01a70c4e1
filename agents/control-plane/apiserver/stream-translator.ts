// Exec and attach for WebSocket clients that speak v5.channel.k8s.io (client-go's WebSocket
// executor, kubectl ≥ 1.30, @kubernetes/client-node, the Python client): as kube-apiserver's
// StreamTranslator, the API server ends the WebSocket and talks the kubelet's remote-command
// protocol v4 over SPDY, the path kubectl's SPDY executor already uses. Channels: 0 stdin,
// 1 stdout, 2 stderr, 3 the final Status (the runtime's own, with NonZeroExitCode and an ExitCode
// cause), 4 resize (TerminalSize JSON); v5 adds 255, a close signal whose next byte names the
// stream to half-close (only stdin is writable). Other WebSocket protocols (v4.channel.k8s.io ...)
// are not translated: the kubelet relays them to the runtime, which speaks them itself.
import type WebSocket from 'ws';
import { ApiError } from './errors.ts';
import { dialKubeletUpgrade, type KubeletCredentials } from './kubelet-proxy.ts';
import type { KubeletTarget } from './kubelet-target.ts';
import { SpdySession } from './spdy/session.ts';
import { sendPaced } from './ws-paced.ts';

export const V5_PROTOCOL = 'v5.channel.k8s.io';
/** the remote-command protocol asked of the kubelet */
const KUBELET_PROTOCOL = 'v4.channel.k8s.io';

export const enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  Error = 3,
  Resize = 4,
  Close = 255,
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const framed = (channel: number, data: Buffer) => Buffer.concat([Buffer.from([channel]), data]);

/** The SPDY streams remote-command v4 expects, in client-go's order, with the WebSocket channel each maps to. */
export function streamsFor(o: StreamOptions): { type: string; channel: Channel }[] {
  const out: { type: string; channel: Channel }[] = [{ type: 'error', channel: Channel.Error }];
  if (o.stdin) out.push({ type: 'stdin', channel: Channel.Stdin });
  if (o.stdout) out.push({ type: 'stdout', channel: Channel.Stdout });
  if (o.stderr && !o.tty) out.push({ type: 'stderr', channel: Channel.Stderr });
  if (o.tty) out.push({ type: 'resize', channel: Channel.Resize });
  return out;
}

/** Runs one translated session until either side ends; resolves then. */
export function translateRemoteCommand(ws: WebSocket, target: KubeletTarget, creds: KubeletCredentials, o: StreamOptions): Promise<void> {
  return new Promise((resolve) => {
    const pending: Buffer[] = [];
    let toKubelet: ((msg: Buffer) => void) | undefined;
    let session: SpdySession | undefined;
    let wsClosed = false;
    const onMessage = (msg: Buffer) => (toKubelet ? toKubelet(msg) : pending.push(msg));
    ws.on('message', (data: WebSocket.RawData) => onMessage(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)])));
    ws.on('close', () => {
      wsClosed = true;
      session?.destroy();
      resolve();
    });
    ws.on('error', () => ws.terminate());
    const fail = (err: ApiError) => {
      if (!wsClosed) ws.send(framed(Channel.Error, Buffer.from(JSON.stringify(err.toStatus()))));
      ws.close(1000);
    };
    dialKubeletUpgrade(target, creds, { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': KUBELET_PROTOCOL }).then(
      ({ socket, head }) => {
        if (wsClosed) return socket.destroy();
        const status: Buffer[] = [];
        const channelOf = new Map<number, Channel>();
        const idOf = new Map<Channel, number>();
        session = new SpdySession(
          socket,
          {
            data: (id, data) => {
              const ch = channelOf.get(id);
              if (ch === Channel.Error) status.push(data);
              else if (ch === Channel.Stdout || ch === Channel.Stderr) sendPaced(ws, socket, framed(ch, data));
            },
            end: () => undefined,
            close: (err) => {
              if (wsClosed) return;
              if (status.length) ws.send(framed(Channel.Error, Buffer.concat(status)));
              else if (err) return fail(new ApiError(500, 'InternalError', `error stream protocol error: ${err.message}`));
              ws.close(1000);
            },
          },
          head,
        );
        for (const s of streamsFor(o)) {
          const id = session.open({ streamtype: s.type });
          channelOf.set(id, s.channel);
          idOf.set(s.channel, id);
        }
        const sess = session;
        toKubelet = (msg) => {
          if (!msg.length) return;
          const ch = msg[0]!;
          if (ch === Channel.Close) {
            // v5: [255, n] half-closes stream n; only stdin carries data toward the container
            const id = idOf.get(msg[1] as Channel);
            if (msg[1] === Channel.Stdin && id !== undefined) sess.closeStream(id);
            return;
          }
          const id = idOf.get(ch as Channel);
          if (id !== undefined && (ch === Channel.Stdin || ch === Channel.Resize)) sess.write(id, msg.subarray(1));
        };
        for (const m of pending.splice(0)) toKubelet(m);
      },
      (e: unknown) => fail(e instanceof ApiError ? e : new ApiError(500, 'InternalError', String((e as Error)?.message ?? e))),
    );
  });
}
