// The kubelet's half of exec, attach and port-forward: after CRI Exec/Attach/PortForward returned a
// single-use URL on the runtime's streaming server (127.0.0.1 inside the node's network namespace,
// where the kubelet runs), the client's upgrade request is replayed there and the raw bytes are
// copied both ways. The runtime speaks SPDY/3.1 and WebSocket itself, so neither protocol is
// implemented here, and whatever the client negotiates (kubectl via the API server: SPDY; direct
// WebSocket clients: v4.channel.k8s.io) passes through untouched.
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { HttpError, rawStatusResponse } from './status.ts';

/**
 * The request line and headers sent to the streaming server: the client's method and headers
 * (Upgrade, Connection, Sec-WebSocket-*, X-Stream-Protocol-Version ...) with the runtime's path
 * and Host. The client's query rides along when the runtime URL has none: a WebSocket
 * port-forward names its ports there.
 */
export function upstreamHead(method: string, target: URL, clientSearch: string, rawHeaders: string[]): string {
  const lines = [`${method} ${target.pathname}${target.search || clientSearch} HTTP/1.1`, `Host: ${target.host}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'host') lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export interface RelayRequest {
  method: string;
  rawHeaders: string[];
  /** the client's query string, with its leading "?" (or empty) */
  search: string;
}

/** Relays until either side closes; resolves then. Connection failures answer the client with a Status. */
export function relayUpgrade(client: Duplex, head: Buffer, req: RelayRequest, target: string, connectTimeoutMs = 10_000): Promise<void> {
  const url = new URL(target);
  if (url.protocol !== 'http:') {
    client.end(rawStatusResponse(new HttpError(500, `streaming server URL ${target}: only http is supported`)));
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const upstream = connect({ host: url.hostname, port: Number(url.port || 80) });
    let connected = false;
    upstream.setTimeout(connectTimeoutMs, () => upstream.destroy(new Error(`no connection after ${connectTimeoutMs} ms`)));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(0);
      upstream.write(upstreamHead(req.method, url, req.search, req.rawHeaders));
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (e) => {
      if (!connected) client.end(rawStatusResponse(new HttpError(500, `error dialing the container runtime's streaming server: ${e.message}`)));
      // after the connection, 'close' follows and ends the client
    });
    upstream.on('close', () => {
      // let what was piped reach the client (ending, not destroying), but do not wait forever for its side
      client.end();
      setTimeout(() => client.destroy(), 5_000).unref();
    });
    client.on('error', () => client.destroy());
    client.on('close', () => {
      upstream.destroy();
      resolve();
    });
  });
}
