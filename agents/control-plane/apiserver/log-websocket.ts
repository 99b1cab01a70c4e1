// pods/log for WebSocket clients, as kube-apiserver's LocationStreamer hands a log stream to
// wsstream.Reader: the kubelet's answer is read first (a refusal is an HTTP Status, no upgrade),
// then every chunk goes out as one message: binary with no subprotocol or "binary.k8s.io", base64
// text with "base64.binary.k8s.io"; the end of the log closes the WebSocket normally. Another
// subprotocol is refused as golang.org/x/net/websocket refuses a failed handshake: 403, no body.
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import { offeredProtocols } from './upgrade-route.ts';

export const LOG_PROTOCOLS = ['binary.k8s.io', 'base64.binary.k8s.io'];

/** The subprotocol a log WebSocket gets: "" when none was offered, undefined when none offered is served. */
export function logProtocol(headers: IncomingMessage['headers']): string | undefined {
  const offered = offeredProtocols(headers);
  if (!offered.length) return '';
  return offered.find((p) => LOG_PROTOCOLS.includes(p));
}

/** Copies the kubelet's log answer to the WebSocket until either ends. */
export function streamLog(ws: WebSocket, log: IncomingMessage): void {
  const base64 = ws.protocol === 'base64.binary.k8s.io';
  log.on('data', (c: Buffer) => ws.send(base64 ? c.toString('base64') : c, { binary: !base64 }));
  log.on('end', () => ws.close(1000));
  log.on('error', () => ws.terminate());
  ws.on('close', () => log.destroy());
  ws.on('error', () => ws.terminate());
}
