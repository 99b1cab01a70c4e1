// The pods the pod benchmarks start (bench/pods.ts, bench/pod-census.ts), and waiting for them.
import type { V1Pod } from '@kubernetes/client-node';
import type { ApiClient } from '../agents/api/client.ts';
import { core } from '../agents/api/paths.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const podObject = (name: string, image: string, node?: string): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'bench' } },
  spec: {
    terminationGracePeriodSeconds: 1,
    ...(node ? { nodeSelector: { 'kubernetes.io/hostname': node } } : {}),
    containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', ports: [{ containerPort: 8080 }] }],
  },
});

export const started = (p: V1Pod) =>
  p.status?.phase === 'Running' &&
  (p.status.containerStatuses ?? []).length === (p.spec?.containers ?? []).length &&
  (p.status.containerStatuses ?? []).every((s) => s.state?.running);

export async function waitPods(api: ApiClient, ns: string, done: (pods: V1Pod[]) => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (done((await api.list<V1Pod>(core('pods', ns))).items)) return;
    await sleep(250);
  }
  throw new Error(`pods in ${ns} did not settle within ${timeoutMs} ms`);
}
