// Which path an upgrade request of pods/exec, attach or portforward takes, as kube-apiserver picks
// it (pkg/registry/core/pod/rest/subresources.go): a WebSocket asking for v5.channel.k8s.io is
// translated here to SPDY toward the kubelet (exec, attach); a WebSocket asking for
// SPDY/3.1+portforward.k8s.io is a tunnel whose SPDY bytes go to the kubelet (port-forward);
// anything else (SPDY, or WebSocket v4.channel.k8s.io, portforward.k8s.io ...) is proxied to the
// kubelet as it is, and the kubelet's runtime accepts or refuses the protocol. Pure.
import type { IncomingHttpHeaders } from 'node:http';
import { V5_PROTOCOL } from './stream-translator.ts';

export const TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';
/** the tunnel's subprotocol as handed to ws, which accepts only RFC 7230 tokens */
export const TUNNEL_TOKEN = 'spdy-3.1-portforward.k8s.io';

export type UpgradeRoute = 'translate' | 'tunnel' | 'proxy';

/** The subprotocols a WebSocket request offers (Sec-WebSocket-Protocol, comma separated, repeated). */
export function offeredProtocols(headers: IncomingHttpHeaders): string[] {
  const raw = headers['sec-websocket-protocol'];
  return (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export const isWebSocket = (headers: IncomingHttpHeaders) =>
  String(headers.upgrade ?? '').toLowerCase() === 'websocket' && /\bupgrade\b/i.test(String(headers.connection ?? ''));

export function upgradeRoute(subresource: string, headers: IncomingHttpHeaders): UpgradeRoute {
  if (!isWebSocket(headers)) return 'proxy';
  const offered = offeredProtocols(headers);
  if ((subresource === 'exec' || subresource === 'attach') && offered.includes(V5_PROTOCOL)) return 'translate';
  if (subresource === 'portforward' && offered.includes(TUNNEL_PROTOCOL)) return 'tunnel';
  return 'proxy';
}
