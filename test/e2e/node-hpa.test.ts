// HorizontalPodAutoscaler end to end on a two-node lab: a Deployment whose one pod burns a CPU
// against a 100m request is autoscaled with `kubectl autoscale --cpu 50%`; the built-in metrics API
// (the kubelets' resource metrics) and the HPA controller scale it up from 1 within the default
// scale-up policy. Scale-down waits out the default 300 s window, so it is left to the integration
// test (apiserver-hpa), which shortens the window.
import test from 'ava';
import { Cluster, downLab, eventually, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['hpa', '10.72.0.0/24'] as const;
let L: NodeLab;

test.before(async () => {
  L = await upLab(...LAB);
});
test.after.always(async () => {
  await downLab(...LAB);
});

test('a CPU-burning Deployment with a 50% CPU HPA scales up from one replica', async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  const labels = { app: 'burn' };
  await c.apply(
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'burn' },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'spin', image: L.testapp, command: ['sh', '-c', 'while :; do :; done'], resources: { requests: { cpu: '100m' } } }],
          },
        },
      },
    }),
  );
  t.regex(await c.ok(['autoscale', 'deployment', 'burn', '--min', '1', '--max', '3', '--cpu', '50%']), /horizontalpodautoscaler.autoscaling\/burn autoscaled/);
  // two scrapes (15 s apart) give the first usage; the controller syncs every 15 s
  const hpa = await eventually(
    'the HPA scales the Deployment up',
    async () => {
      const h = JSON.parse(await c.ok(['get', 'hpa.v2.autoscaling', 'burn', '-o', 'json']));
      return (h.status?.desiredReplicas ?? 0) > 1 ? h : undefined;
    },
    150_000,
    2000,
  );
  t.log(await c.ok(['get', 'hpa', 'burn']));
  t.is(hpa.status.desiredReplicas, 3);
  t.true(hpa.status.currentMetrics[0].resource.current.averageUtilization > 50);
  const replicas = JSON.parse(await c.ok(['get', 'deployment', 'burn', '-o', 'json'])).spec.replicas;
  t.is(replicas, 3);
});
