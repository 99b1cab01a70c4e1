// autoscaling/v1 <-> v2 HorizontalPodAutoscaler conversion (one v2 storage serves both).
import test from 'ava';
import { hpaV1ToV2, hpaV2ToV1 } from '../../agents/control-plane/apiserver/strategies/autoscaling-convert.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';

const stored = (): Obj => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'a' },
  spec: {
    scaleTargetRef: { kind: 'Deployment', name: 'a', apiVersion: 'apps/v1' },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
    ],
  },
  status: {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '80Mi' } } },
      { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 70, averageValue: '70m' } } },
    ],
    conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }],
  },
});

test('v2 reads as v1: the CPU utilization target and its current value; other metrics and conditions are not in v1', (t) => {
  const o = stored();
  hpaV2ToV1(o);
  t.deepEqual(JSON.parse(JSON.stringify(o)), {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'a' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'a', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
    status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 70 },
  });
});

test('a v1 write becomes v2: targetCPUUtilizationPercentage is a CPU Utilization metric', (t) => {
  const o: Obj = {
    apiVersion: 'autoscaling/v1',
    metadata: { name: 'b' },
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'b' }, maxReplicas: 2, targetCPUUtilizationPercentage: 80 },
    status: { currentReplicas: 1, desiredReplicas: 1, currentCPUUtilizationPercentage: 10 },
  };
  hpaV1ToV2(o);
  t.is(o.apiVersion, 'autoscaling/v2');
  t.deepEqual(o.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  t.deepEqual(o.status, {
    currentReplicas: 1,
    desiredReplicas: 1,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 10 } } }],
  });
});

test('an update through v1 carries the stored v2 status over whole (conditions and all)', (t) => {
  const cur = stored();
  hpaV2ToV1(cur);
  // what crud's merge does with a spec update: the body, with the current object's status
  const next: Obj = { apiVersion: 'autoscaling/v1', metadata: { name: 'a' }, spec: { ...cur.spec, maxReplicas: 9 }, status: cur.status };
  hpaV1ToV2(next);
  t.deepEqual(next.status, stored().status);
  t.is(next.spec.maxReplicas, 9);
});
