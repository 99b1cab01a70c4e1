// Objects every cluster starts with: the system namespaces and the `kubernetes` Service in
// default, whose Endpoints and EndpointSlice point at this API server (kept current on each start).
import { ApiError } from './apiserver/errors.ts';
import type { LoopbackClient } from './client/loopback.ts';
import { nthIP, parseCIDR } from '../api/ip.ts';
import { localPathClass } from './controllers/storage/local-path-rules.ts';
import { CLASS_NAME, CONTROLLER_NAME } from '../api/ingress-class.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function ensure(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

/** The first usable address of the service CIDR: the `kubernetes` Service's cluster IP. */
export function firstServiceIP(serviceCIDR: string): string {
  const c = parseCIDR(serviceCIDR);
  if (!c) throw new Error(`invalid service CIDR ${serviceCIDR}`);
  return nthIP(c, 1);
}

export async function bootstrap(
  client: LoopbackClient,
  o: { serviceCIDR: string; advertiseAddress: string; port: number; ingressClass?: boolean },
): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) {
    await ensure(() => client.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  }
  // the built-in default StorageClass, as k3s ships local-path: made when missing, a user's edits
  // (say, dropping its default-class annotation) are kept
  await ensure(() => client.create('/apis/storage.k8s.io/v1/storageclasses', localPathClass()));
  // the built-in ingress controller's class (agents/ingress), default as k3s's traefik: made when missing
  if (o.ingressClass) {
    await ensure(() =>
      client.create('/apis/networking.k8s.io/v1/ingressclasses', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: CLASS_NAME, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
        spec: { controller: CONTROLLER_NAME },
      }),
    );
  }
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const ports = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.port }];
  try {
    await client.create('/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels },
      spec: {
        type: 'ClusterIP',
        clusterIP: firstServiceIP(o.serviceCIDR),
        ports,
        sessionAffinity: 'None',
      },
    });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
    // the server may listen on another port than last time
    await client.patch('/api/v1/namespaces/default/services/kubernetes', { spec: { ports } }, 'merge');
  }
  const endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: o.advertiseAddress }], ports: [{ name: 'https', port: o.port, protocol: 'TCP' }] }],
  };
  await client.update('/api/v1/namespaces/default/endpoints/kubernetes', endpoints);
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: o.advertiseAddress.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [o.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port: o.port, protocol: 'TCP' }],
  };
  await client.update('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes', slice);
}
