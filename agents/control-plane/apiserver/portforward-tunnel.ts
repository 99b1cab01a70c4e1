// Port-forward for WebSocket clients that tunnel SPDY (subprotocol SPDY/3.1+portforward.k8s.io,
// kubectl ≥ 1.31's default): as kube-apiserver's tunneling handler, the WebSocket's binary
// messages carry the client's SPDY session byte for byte; the API server dials the kubelet with a
// SPDY upgrade of its own (portforward.k8s.io) and copies the bytes both ways, one WebSocket
// message per chunk the kubelet sends.
import type WebSocket from 'ws';
import { ApiError } from './errors.ts';
import { dialKubeletUpgrade, type KubeletCredentials } from './kubelet-proxy.ts';
import type { KubeletTarget } from './kubelet-target.ts';
import { sendPaced } from './ws-paced.ts';

const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** a kubelet refusal is reported in the close frame, whose reason is bounded to 123 bytes */
const reasonOf = (e: unknown) =>
  Buffer.from(e instanceof Error ? e.message : String(e))
    .subarray(0, 123)
    .toString();

/** Runs one tunnel until either side ends; resolves then. */
export function tunnelPortForward(ws: WebSocket, target: KubeletTarget, creds: KubeletCredentials): Promise<void> {
  return new Promise((resolve) => {
    const pending: Buffer[] = [];
    let send: ((b: Buffer) => void) | undefined;
    let end: (() => void) | undefined;
    let closed = false;
    ws.on('message', (data: WebSocket.RawData) => {
      const b = Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]);
      if (send) send(b);
      else pending.push(b);
    });
    ws.on('close', () => {
      closed = true;
      end?.();
      resolve();
    });
    ws.on('error', () => ws.terminate());
    dialKubeletUpgrade(target, creds, { upgrade: 'SPDY/3.1', 'x-stream-protocol-version': PORT_FORWARD_PROTOCOL }).then(
      ({ socket, head }) => {
        if (closed) return socket.destroy();
        end = () => socket.destroy();
        send = (b) => socket.write(b);
        if (head.length) ws.send(head);
        for (const b of pending.splice(0)) socket.write(b);
        socket.on('data', (c: Buffer) => sendPaced(ws, socket, c));
        socket.on('error', () => socket.destroy());
        socket.on('close', () => ws.close(1000));
      },
      (e: unknown) => ws.close(1011, reasonOf(e instanceof ApiError ? e : new ApiError(500, 'InternalError', String(e)))),
    );
  });
}
