// The DNS settings a pod's sandbox gets. Until cluster DNS exists, pods use the host's resolvers;
// systemd-resolved's stub (127.0.0.53) is unreachable from a pod's namespace, so the real upstream
// list in /run/systemd/resolve/resolv.conf is used instead when the host points at the stub.
import { existsSync, readFileSync } from 'node:fs';

export interface DnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const [word, ...rest] = raw
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (word === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (word === 'search' || word === 'domain') out.searches = rest;
    else if (word === 'options') out.options.push(...rest);
  }
  return out;
}

const isLoopback = (ip: string): boolean => ip.startsWith('127.') || ip === '::1';

export function hostDnsConfig(path = '/etc/resolv.conf'): DnsConfig {
  let cfg = existsSync(path) ? parseResolvConf(readFileSync(path, 'utf8')) : { servers: [], searches: [], options: [] };
  const upstream = '/run/systemd/resolve/resolv.conf';
  if (cfg.servers.some(isLoopback) && existsSync(upstream)) cfg = parseResolvConf(readFileSync(upstream, 'utf8'));
  return { ...cfg, servers: cfg.servers.filter((s) => !isLoopback(s)) };
}
