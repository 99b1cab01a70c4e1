// The Local APIServices of the groups this server serves itself, as kube-apiserver's
// autoregister controller makes them at start (label automanaged=onstart: made when missing, a
// user's later changes kept, so a metrics-server chart may point v1beta1.metrics.k8s.io at its
// Service). Priorities are upstream's apiVersionPriorities; a group/version upstream does not
// list gets no APIService, as upstream's makeAPIService skips it.
import { ApiError } from '../errors.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { Registry } from '../registry.ts';

export const AUTOMANAGED_LABEL = 'kube-aggregator.kubernetes.io/automanaged';

const PRIORITIES: Record<string, [number, number]> = {
  'v1.': [18000, 1],
  'v1.apps': [17800, 15],
  'v1.authentication.k8s.io': [17700, 15],
  'v1.authorization.k8s.io': [17600, 15],
  'v1.autoscaling': [17500, 15],
  'v2.autoscaling': [17500, 30],
  'v1.batch': [17400, 15],
  'v1.networking.k8s.io': [17200, 15],
  'v1.policy': [17100, 15],
  'v1.rbac.authorization.k8s.io': [17000, 15],
  'v1.storage.k8s.io': [16800, 15],
  'v1.apiextensions.k8s.io': [16700, 15],
  'v1.admissionregistration.k8s.io': [16700, 15],
  'v1.coordination.k8s.io': [16500, 15],
  'v1.discovery.k8s.io': [16200, 15],
  // served by the aggregator itself upstream; the priority is ours
  'v1.apiregistration.k8s.io': [18000, 15],
  // the built-in metrics-server: metrics-server's own chart registers it at 100/100
  'v1beta1.metrics.k8s.io': [100, 100],
};

/** The Local APIServices for the built-in group/versions of `reg` (pure). */
export function localAPIServices(reg: Registry): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [group, versions] of reg.groups()) {
    for (const version of versions) {
      const name = `${version}.${group}`;
      const p = PRIORITIES[name];
      if (!p) continue;
      out.push({
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name, labels: { [AUTOMANAGED_LABEL]: 'onstart' } },
        spec: { group, version, groupPriorityMinimum: p[0], versionPriority: p[1] },
      });
    }
  }
  return out;
}

/** Creates the missing ones (an existing one, changed or not, is left as it is). */
export async function ensureLocalAPIServices(client: LoopbackClient, reg: Registry): Promise<void> {
  for (const svc of localAPIServices(reg)) {
    await client.create('/apis/apiregistration.k8s.io/v1/apiservices', svc).catch((e: unknown) => {
      if (!(e instanceof ApiError && e.code === 409)) throw e;
    });
  }
}
