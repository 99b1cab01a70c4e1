// Which of this host's addresses is the node's InternalIP: the source address the kernel would use
// to reach the API server. Picking the first interface instead registers the Vagrant NAT address
// (10.0.2.15 on every VM), which no other node can reach.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { runOk } from '../../api/exec.ts';

export async function sourceAddressFor(serverUrl: string): Promise<string> {
  const host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
  const ip = isIP(host) ? host : (await lookup(host)).address;
  const out = await runOk('ip', ['-j', 'route', 'get', ip]);
  const routes = JSON.parse(out) as { prefsrc?: string }[];
  const src = routes[0]?.prefsrc;
  if (!src) throw new Error(`no source address routes to the API server at ${ip}; set --node-ip`);
  // the API server on this very host answers on loopback: that address is useless to other nodes
  if (src.startsWith('127.')) throw new Error(`the route to ${ip} is via loopback; set --node-ip`);
  return src;
}
