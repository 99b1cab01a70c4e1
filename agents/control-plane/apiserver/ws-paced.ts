// Sends what a kubelet stream produced to a WebSocket client without buffering without bound: a
// client that reads slower than the container writes (a fast exec output, a port-forward download)
// pauses the read from the kubelet while more than WS_HIGH_WATER bytes wait for the client, and
// the read resumes once half of that is flushed, so TCP flow control slows the kubelet and the
// container instead of the API server's memory filling up.
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';

export const WS_HIGH_WATER = 1 << 20;

export function sendPaced(ws: WebSocket, from: Duplex, data: Buffer, high = WS_HIGH_WATER): void {
  ws.send(data, () => {
    if (from.isPaused() && ws.bufferedAmount <= high / 2) from.resume();
  });
  if (ws.bufferedAmount > high) from.pause();
}
