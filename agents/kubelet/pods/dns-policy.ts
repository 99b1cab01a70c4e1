// A pod's resolver settings from its dnsPolicy, as the kubelet decides them:
//   ClusterFirst             cluster DNS, search <ns>.svc.<domain> svc.<domain> <domain> + host's,
//                            options ndots:5; a hostNetwork pod gets Default instead
//   ClusterFirstWithHostNet  cluster DNS even with hostNetwork
//   Default                  the node's resolv.conf
//   None                     nothing but the pod's dnsConfig
// then spec.dnsConfig merged in (servers and searches appended without duplicates, options
// replaced by name), and the result cut to what resolvers accept.
import type { V1Pod, V1PodDNSConfigOption } from '@kubernetes/client-node';
import type { DnsConfig } from './resolv.ts';

export const MAX_NAMESERVERS = 3; // glibc's MAXNS
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048; // the whole search line
export const MAX_SEARCH_LENGTH = 253; // one domain; longer ones make some glibc versions abort

export interface PodDnsOptions {
  clusterDNS: string[];
  clusterDomain: string;
  host: DnsConfig;
}
export interface PodDnsResult {
  config: DnsConfig;
  warnings: string[];
}

const unique = (xs: string[]): string[] => [...new Set(xs)];
const trimDot = (s: string): string => (s.length > 1 && s.endsWith('.') ? s.slice(0, -1) : s);

/** Options merged by name (`ndots:5` is name ndots, value 5); later entries replace earlier ones in place. */
export function mergeOptions(base: string[], extra: V1PodDNSConfigOption[]): string[] {
  const m = new Map<string, string | undefined>();
  for (const o of base) {
    const i = o.indexOf(':');
    m.set(i < 0 ? o : o.slice(0, i), i < 0 ? undefined : o.slice(i + 1));
  }
  for (const o of extra) if (o.name) m.set(o.name, o.value || undefined);
  return [...m].map(([k, v]) => (v === undefined ? k : `${k}:${v}`));
}

type Kind = 'cluster' | 'host' | 'none';

function kindOf(pod: V1Pod): Kind {
  switch (pod.spec?.dnsPolicy ?? 'ClusterFirst') {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'Default':
      return 'host';
    default:
      return pod.spec?.hostNetwork ? 'host' : 'cluster';
  }
}

function fitSearches(searches: string[], warnings: string[]): string[] {
  let s = searches.slice(0, MAX_SEARCH_PATHS);
  let cut = s.length < searches.length;
  const short = s.filter((d) => d.length <= MAX_SEARCH_LENGTH);
  cut ||= short.length < s.length;
  s = short;
  while (s.length && s.join(' ').length > MAX_SEARCH_CHARS) {
    s = s.slice(0, -1);
    cut = true;
  }
  if (cut) warnings.push(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${s.join(' ')}`);
  return s;
}

function fitServers(servers: string[], warnings: string[]): string[] {
  if (servers.length <= MAX_NAMESERVERS) return servers;
  const s = servers.slice(0, MAX_NAMESERVERS);
  warnings.push(`Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${s.join(' ')}`);
  return s;
}

/** The settings with the warnings the kubelet reports as DNSConfigForming / MissingClusterDNS events. */
export function podDnsConfigWithWarnings(pod: V1Pod, o: PodDnsOptions): PodDnsResult {
  const warnings: string[] = [];
  const host: DnsConfig = { servers: [...o.host.servers], searches: o.host.searches.map(trimDot), options: [...o.host.options] };
  let kind = kindOf(pod);
  if (kind === 'cluster' && !o.clusterDNS.length) {
    warnings.push('kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.');
    kind = 'host';
  }
  let cfg: DnsConfig;
  if (kind === 'none') cfg = { servers: [], searches: [], options: [] };
  else if (kind === 'host') cfg = host;
  else {
    const d = trimDot(o.clusterDomain);
    const ns = pod.metadata?.namespace ?? 'default';
    const cluster = d ? [`${ns}.svc.${d}`, `svc.${d}`, d] : [];
    cfg = { servers: [...o.clusterDNS], searches: unique([...cluster, ...host.searches]), options: ['ndots:5'] };
  }
  const extra = pod.spec?.dnsConfig;
  if (extra) {
    cfg = {
      servers: unique([...cfg.servers, ...(extra.nameservers ?? [])]),
      searches: unique([...cfg.searches, ...(extra.searches ?? []).map(trimDot)]),
      options: mergeOptions(cfg.options, extra.options ?? []),
    };
  }
  return { config: { servers: fitServers(cfg.servers, warnings), searches: fitSearches(cfg.searches, warnings), options: cfg.options }, warnings };
}

export function podDnsConfig(pod: V1Pod, o: PodDnsOptions): DnsConfig {
  return podDnsConfigWithWarnings(pod, o).config;
}
