// The /etc/hosts the kubelet writes for each pod: localhost entries, the pod's own IPs under its
// hostname (and FQDN when it has a subdomain), then spec.hostAliases. A hostNetwork pod gets the
// node's own file plus its aliases. Pure.
import type { V1HostAlias, V1Pod } from '@kubernetes/client-node';

export const MANAGED_HEADER = '# Kubernetes-managed hosts file.';
export const MANAGED_HOST_NETWORK_HEADER = '# Kubernetes-managed hosts file (host network).';

function aliasLines(aliases: V1HostAlias[] | undefined): string {
  if (!aliases?.length) return '';
  const lines = aliases.filter((a) => a.ip).map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}`);
  return `\n# Entries added by HostAliases.\n${lines.join('\n')}\n`;
}

/** The pod's hostname: spec.hostname or its name, cut to the 63 characters of a DNS label. */
export function podHostname(pod: V1Pod): string {
  return (pod.spec?.hostname || pod.metadata!.name!).slice(0, 63).replace(/[.-]+$/, '');
}

export function hostsFile(pod: V1Pod, podIPs: string[], clusterDomain: string, nodeHostsFile: string): string {
  if (pod.spec?.hostNetwork) {
    const base = nodeHostsFile.endsWith('\n') || !nodeHostsFile ? nodeHostsFile : `${nodeHostsFile}\n`;
    return `${MANAGED_HOST_NETWORK_HEADER}\n${base}${aliasLines(pod.spec.hostAliases)}`;
  }
  const host = podHostname(pod);
  const sub = pod.spec?.subdomain;
  const names = sub && clusterDomain ? `${host}.${sub}.${pod.metadata!.namespace}.svc.${clusterDomain}\t${host}` : host;
  const lines = [
    MANAGED_HEADER,
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...podIPs.map((ip) => `${ip}\t${names}`),
  ];
  return `${lines.join('\n')}\n${aliasLines(pod.spec?.hostAliases)}`;
}

/** Containers get the managed file unless they mount something at /etc/hosts themselves. */
export const wantsManagedHosts = (mountPaths: string[]): boolean => !mountPaths.some((p) => p.replace(/\/+$/, '') === '/etc/hosts');
