// HorizontalPodAutoscalers against an in-process control plane with the real kubectl v1.35:
// `kubectl autoscale`, `kubectl get hpa`'s columns, v1 and v2 served from one storage, upstream's
// defaults and 422s, and the controller scaling a Deployment through its scale subresource. The
// pods' usage comes from a fake metrics source: the test fills the control plane's MetricsStore
// (what the kubelet scraper fills in a real cluster) and stands in for the kubelet by marking the
// Deployment's pods Running and Ready.
import test from 'ava';
import { MetricsStore } from '../../agents/control-plane/metrics/store.ts';
import { containerKey } from '../../agents/control-plane/metrics/parse.ts';
import { readyNode, startCluster, until, type Cluster } from './_apiserver-kit.ts';

let c: Cluster | undefined;
const store = new MetricsStore();
/** pod name -> cumulative CPU seconds reported so far; the fake clock of the metric points */
const cpu = new Map<string, number>();
let clockMs = Date.now();

test.before(async () => {
  c = await startCluster('sqlite', { metricsSource: store, hpaSyncPeriodMs: 500 });
  await c.ok(['create', '-f', '-'], { input: JSON.stringify(readyNode('h1', '10.0.0.1')) });
});
test.after.always(async () => {
  await c?.close();
});

type Json = Record<string, any>;
const getJson = async (args: string[]): Promise<Json> => JSON.parse(await c!.ok([...args, '-o', 'json']));

/** What a kubelet would do for the app's pods: Running and Ready since ten minutes ago (past the CPU initialization period). */
async function runPods(label: string): Promise<string[]> {
  const pods = ((await getJson(['get', 'pods', '-l', label])).items as Json[]).filter((p) => !p.metadata.deletionTimestamp);
  const since = new Date(Date.now() - 600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  for (const p of pods) {
    if (p.status?.phase === 'Running') continue;
    const status = { phase: 'Running', startTime: since, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] };
    await c!.ok(['patch', 'pod', p.metadata.name, '--subresource', 'status', '--type', 'merge', '-p', JSON.stringify({ status })]);
  }
  return pods.map((p) => p.metadata.name as string);
}

/** Two metric points per pod, one second apart, at `milli` millicores each. */
function feed(pods: string[], milli: number): void {
  for (let i = 0; i < 2; i++) {
    clockMs += 1000;
    const containers = new Map(
      pods.map((p) => {
        cpu.set(p, (cpu.get(p) ?? 0) + milli / 1000);
        return [containerKey('default', p, 'app'), { cpuSeconds: cpu.get(p)!, memoryBytes: 10 << 20, atMs: clockMs }] as const;
      }),
    );
    store.update('h1', { containers });
  }
}

test.serial('kubectl autoscale makes a v2 HPA with upstream defaults; kubectl get hpa prints its columns; v1 reads it back', async (t) => {
  const labels = { app: 'app' };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'app' },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '100m' } } }] } },
    },
  };
  await c!.ok(['create', '-f', '-'], { input: JSON.stringify(deployment) });
  t.regex(
    await c!.ok(['autoscale', 'deployment', 'app', '--min', '1', '--max', '5', '--cpu-percent', '50']),
    /horizontalpodautoscaler.autoscaling\/app autoscaled/,
  );
  const hpa = await getJson(['get', 'hpa.v2.autoscaling', 'app']);
  t.like(hpa.spec, { minReplicas: 1, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'app', apiVersion: 'apps/v1' } });
  t.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  t.deepEqual(hpa.spec.behavior, {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  });
  const table = await c!.ok(['get', 'hpa', 'app']);
  t.regex(table, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
  t.regex(table, /^app\s+Deployment\/app\s+cpu: <unknown>\/50%\s+1\s+5\s+\d+\s+\d+s/m);
  const v1 = await getJson(['get', 'horizontalpodautoscalers.v1.autoscaling', 'app']);
  t.is(v1.apiVersion, 'autoscaling/v1');
  t.like(v1.spec, { targetCPUUtilizationPercentage: 50, minReplicas: 1, maxReplicas: 5 });
  t.false('metrics' in v1.spec);
  t.false('behavior' in v1.spec);
});

test.serial('an autoscaling/v1 HPA is stored as v2: targetCPUUtilizationPercentage becomes a CPU Resource metric', async (t) => {
  const v1 = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'old' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'none' }, maxReplicas: 3, targetCPUUtilizationPercentage: 70 },
  };
  await c!.ok(['create', '-f', '-'], { input: JSON.stringify(v1) });
  const v2 = await getJson(['get', 'hpa.v2.autoscaling', 'old']);
  t.like(v2.spec, { minReplicas: 1, maxReplicas: 3 });
  t.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
  t.is(v2.spec.behavior.scaleDown.stabilizationWindowSeconds, 300);
  // its target does not exist: the controller says so in AbleToScale
  const cond = await until(
    'AbleToScale False',
    async () => {
      const h = await getJson(['get', 'hpa.v2.autoscaling', 'old']);
      return (h.status?.conditions as Json[] | undefined)?.find((x) => x.type === 'AbleToScale' && x.status === 'False');
    },
    15_000,
  );
  t.is(cond.reason, 'FailedGetScale');
  t.regex(cond.message, /^the HPA controller was unable to get the target's current scale: deployments.apps "none" not found$/);
  await c!.ok(['delete', 'hpa', 'old']);
});

test.serial('invalid HPAs are 422 Invalid with upstream field causes', async (t) => {
  const bad = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'bad' },
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'a/b' },
      minReplicas: 0,
      maxReplicas: 0,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 4000, policies: [] } },
    },
  };
  const r = await c!.kubectl(['create', '-f', '-'], { input: JSON.stringify(bad) });
  t.not(r.code, 0);
  t.regex(r.stderr, /The HorizontalPodAutoscaler "bad" is invalid/);
  for (const m of [
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.maxReplicas: Invalid value: 0: must be greater than 0',
    `spec.scaleTargetRef.name: Invalid value: "a/b": may not contain '/'`,
    'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
    'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
    'spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
    'spec.behavior.scaleDown.policies: Required value: must specify at least one Policy',
  ])
    t.true(r.stderr.includes(m), `${m}\n${r.stderr}`);
});

test.serial('the controller scales the Deployment up under load through its scale subresource and reports why', async (t) => {
  const [pod] = await until(
    'one pod',
    async () => {
      const names = await runPods('app=app');
      return names.length === 1 ? names : undefined;
    },
    15_000,
  );
  // 200m against a 100m request is 200% of a 50% target: four pods, which the default scale-up policies allow at once
  feed([pod!], 200);
  const d = await until(
    '4 replicas',
    async () => {
      const dep = await getJson(['get', 'deployment', 'app']);
      return dep.spec.replicas === 4 ? dep : undefined;
    },
    20_000,
  );
  t.is(d.spec.replicas, 4);
  // the next syncs see four pods, three of them not yet running: their usage counts as 0, which keeps four
  const hpa = await until(
    'steady status',
    async () => {
      const h = await getJson(['get', 'hpa.v2.autoscaling', 'app']);
      return h.status?.currentReplicas === 4 ? h : undefined;
    },
    10_000,
  );
  t.like(hpa.status, { currentReplicas: 4, desiredReplicas: 4 });
  t.truthy(hpa.status.lastScaleTime);
  t.deepEqual(hpa.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 200, averageValue: '200m' } } }]);
  const conds = Object.fromEntries((hpa.status.conditions as Json[]).map((x) => [x.type, x]));
  t.like(conds.AbleToScale, { status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  t.like(conds.ScalingActive, {
    status: 'True',
    reason: 'ValidMetricFound',
    message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)',
  });
  t.like(conds.ScalingLimited, { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
  t.regex(await c!.ok(['get', 'hpa', 'app']), /^app\s+Deployment\/app\s+cpu: 200%\/50%\s+1\s+5\s+4\s+/m);
  const v1 = await getJson(['get', 'horizontalpodautoscalers.v1.autoscaling', 'app']);
  t.like(v1.status, { currentCPUUtilizationPercentage: 200, currentReplicas: 4, desiredReplicas: 4 });
});

test.serial('with a zero scale-down window the controller scales back down once the load stops', async (t) => {
  const patch = { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } } } };
  await c!.ok(['patch', 'hpa', 'app', '--type', 'merge', '-p', JSON.stringify(patch)]);
  const pods = await until(
    '4 pods',
    async () => {
      const names = await runPods('app=app');
      return names.length === 4 ? names : undefined;
    },
    15_000,
  );
  // 10m each is 10% of the request: one pod is enough, which is the HPA's minimum
  feed(pods, 10);
  await until('1 replica', async () => (await getJson(['get', 'deployment', 'app'])).spec.replicas === 1, 20_000);
  const hpa = await getJson(['get', 'hpa.v2.autoscaling', 'app']);
  t.like(hpa.status, { desiredReplicas: 1 });
  t.like(hpa.status.currentMetrics[0].resource.current, { averageUtilization: 10 });
});

test.serial('a custom resource with a scale subresource is scaled through it (an average value target)', async (t) => {
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'workers.hpa.example.com' },
    spec: {
      group: 'hpa.example.com',
      scope: 'Namespaced',
      names: { plural: 'workers', singular: 'worker', kind: 'Worker' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { replicas: { type: 'integer' } } },
                status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  };
  await c!.ok(['create', '-f', '-'], { input: JSON.stringify(crd) });
  await until('Worker served', async () => (await c!.kubectl(['get', 'workers'])).code === 0, 15_000);
  await c!.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'hpa.example.com/v1', kind: 'Worker', metadata: { name: 'w' }, spec: { replicas: 2 } }),
  });
  await c!.ok(['patch', 'worker', 'w', '--subresource', 'status', '--type', 'merge', '-p', '{"status":{"replicas":2,"selector":"role=worker"}}']);
  for (const name of ['w-0', 'w-1']) {
    const p = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { role: 'worker' } },
      spec: { containers: [{ name: 'app', image: 'registry.local/app:1' }] },
    };
    await c!.ok(['create', '-f', '-'], { input: JSON.stringify(p) });
  }
  const pods = await runPods('role=worker');
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'w' },
    spec: {
      scaleTargetRef: { apiVersion: 'hpa.example.com/v1', kind: 'Worker', name: 'w' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'AverageValue', averageValue: '100m' } } }],
    },
  };
  await c!.ok(['create', '-f', '-'], { input: JSON.stringify(hpa) });
  // 300m a pod against 100m: three times the two pods
  feed(pods, 300);
  await until('6 workers', async () => (await getJson(['get', 'worker', 'w'])).spec.replicas === 6, 20_000);
  const st = await until(
    'status',
    async () => {
      const h = await getJson(['get', 'hpa.v2.autoscaling', 'w']);
      return h.status?.currentMetrics?.[0]?.resource ? h.status : undefined;
    },
    10_000,
  );
  t.deepEqual(st.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '300m' } } }]);
  t.regex(await c!.ok(['get', 'hpa', 'w']), /^w\s+Worker\/w\s+cpu: 300m\/100m\s+1\s+10\s+\d+\s+/m);
  await c!.ok(['delete', 'hpa', 'w']);
  await c!.ok(['delete', 'crd', 'workers.hpa.example.com']);
});
