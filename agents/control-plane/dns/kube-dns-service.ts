// The kube-system/kube-dns Service that pods' resolv.conf points at (a fixed ClusterIP), with
// Endpoints and EndpointSlices that name the control plane's own addresses: kube-proxy routes
// the ClusterIP to them like any Service. It has no selector, so no controller rewrites them.
import { isIPv6 } from 'node:net';
import type { V1EndpointSlice, V1Endpoints, V1Service } from '@kubernetes/client-node';
import { type ApiClient, isNotFound } from '../../api/client.ts';
import { SERVICE_NAME_LABEL } from './endpoints.ts';

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'hawser-control-plane';
const NS = 'kube-system';
const NAME = 'kube-dns';
const SVC_PATH = `/api/v1/namespaces/${NS}/services`;
const EP_PATH = `/api/v1/namespaces/${NS}/endpoints`;
const SLICE_PATH = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;

const serviceLabels = { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' };

export function kubeDnsService(clusterIP: string, port: number): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: NAME, namespace: NS, labels: serviceLabels },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: port },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: port },
      ],
    },
  };
}

export function kubeDnsEndpoints(ips: string[], port: number): V1Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    // we write the slices ourselves: the mirroring controller must leave this object alone
    metadata: { name: NAME, namespace: NS, labels: { ...serviceLabels, 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: ips.length
      ? [
          {
            addresses: ips.map((ip) => ({ ip })),
            ports: [
              { name: 'dns', port, protocol: 'UDP' },
              { name: 'dns-tcp', port, protocol: 'TCP' },
            ],
          },
        ]
      : [],
  };
}

/** One slice per address family: kube-dns (IPv4) and kube-dns-ipv6. */
export function kubeDnsSlices(ips: string[], port: number): V1EndpointSlice[] {
  const fams: { type: 'IPv4' | 'IPv6'; name: string; ips: string[] }[] = [
    { type: 'IPv4', name: NAME, ips: ips.filter((ip) => !isIPv6(ip)) },
    { type: 'IPv6', name: `${NAME}-ipv6`, ips: ips.filter((ip) => isIPv6(ip)) },
  ];
  return fams
    .filter((f) => f.ips.length || f.type === 'IPv4')
    .map((f) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: f.name, namespace: NS, labels: { [SERVICE_NAME_LABEL]: NAME, [MANAGED_BY_LABEL]: MANAGED_BY, ...serviceLabels } },
      addressType: f.type,
      endpoints: f.ips.map((ip) => ({ addresses: [ip], conditions: { ready: true, serving: true, terminating: false } })),
      ports: [
        { name: 'dns', port, protocol: 'UDP' },
        { name: 'dns-tcp', port, protocol: 'TCP' },
      ],
    }));
}

async function getOrUndefined<T>(api: ApiClient, path: string): Promise<T | undefined> {
  try {
    return await api.get<T>(path);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Create, or replace keeping the stored resourceVersion (an optimistic-concurrency update). */
async function put<T extends { metadata?: { resourceVersion?: string } }>(api: ApiClient, base: string, name: string, want: T): Promise<void> {
  const have = await getOrUndefined<T>(api, `${base}/${name}`);
  if (!have) {
    await api.create(base, want);
    return;
  }
  await api.replace(`${base}/${name}`, { ...want, metadata: { ...want.metadata, resourceVersion: have.metadata?.resourceVersion } });
}

export async function ensureKubeDnsService(api: ApiClient, o: { clusterIP: string; endpointIPs: string[]; port: number }): Promise<void> {
  const want = kubeDnsService(o.clusterIP, o.port);
  const have = await getOrUndefined<V1Service>(api, `${SVC_PATH}/${NAME}`);
  if (have && have.spec?.clusterIP !== o.clusterIP) {
    // a cluster IP cannot change in place: the Service is made again on the configured one
    await api.delete(`${SVC_PATH}/${NAME}`);
  }
  if (!have || have.spec?.clusterIP !== o.clusterIP) await api.create(SVC_PATH, want);
  else await api.patch(`${SVC_PATH}/${NAME}`, { metadata: { labels: serviceLabels }, spec: { ports: want.spec!.ports } }, 'merge');

  await put(api, EP_PATH, NAME, kubeDnsEndpoints(o.endpointIPs, o.port));
  const slices = kubeDnsSlices(o.endpointIPs, o.port);
  for (const s of slices) await put(api, SLICE_PATH, s.metadata!.name!, s);
  // a family no longer served loses its slice
  if (!slices.some((s) => s.addressType === 'IPv6')) {
    try {
      await api.delete(`${SLICE_PATH}/${NAME}-ipv6`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
