// The HPA's replica and behavior decisions, with cases modelled on the situations upstream's
// replica_calculator_test.go and horizontal_test.go cover (the figures are worked out here).
import test from 'ava';
import {
  limitByRate,
  type PodMetrics,
  podMetricsOf,
  recordScaleEvent,
  resourceAverageValueReplicas,
  resourceUtilizationReplicas,
  type Rules,
  scaleDownLimit,
  scaleUpLimit,
  setCondition,
  stabilize,
} from '../../agents/control-plane/controllers/hpa/hpa-rules.ts';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

interface PodOpts {
  request?: string | null;
  ready?: boolean;
  startedAgoMs?: number;
  readySinceAgoMs?: number;
  phase?: string;
  deleted?: boolean;
}

function pod(name: string, o: PodOpts = {}) {
  const started = NOW - (o.startedAgoMs ?? 600_000);
  return {
    metadata: { name, ...(o.deleted ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: 'c', resources: o.request === null ? {} : { requests: { cpu: o.request ?? '1' } } }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(started),
      conditions: [
        { type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: iso(NOW - (o.readySinceAgoMs ?? o.startedAgoMs ?? 600_000)) },
      ],
    },
  };
}

/** usage in millicores per pod name, sampled just now over a 30 s window */
const usage = (m: Record<string, number>): PodMetrics => new Map(Object.entries(m).map(([k, v]) => [k, { valueMilli: v, timestampMs: NOW, windowMs: 30_000 }]));

const util = (pods: ReturnType<typeof pod>[], m: PodMetrics, target: number, current = pods.length) =>
  resourceUtilizationReplicas({ currentReplicas: current, pods, metrics: m, resource: 'cpu', nowMs: NOW }, target);

test('scale up: 50% used of a 30% target on three pods asks for five', (t) => {
  const r = util([pod('a'), pod('b'), pod('c')], usage({ a: 300, b: 500, c: 700 }), 30);
  t.deepEqual(r, { replicas: 5, utilization: 50, rawAverageMilli: 500 });
});

test('scale down: 28% of a 50% target on five pods asks for three', (t) => {
  const r = util(
    ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n)),
    usage({ a: 100, b: 300, c: 500, d: 250, e: 250 }),
    50,
  );
  t.deepEqual(r, { replicas: 3, utilization: 28, rawAverageMilli: 280 });
});

test('within the 0.1 tolerance nothing changes', (t) => {
  const pods = [pod('a', { request: '900m' }), pod('b', { request: '1' }), pod('c', { request: '1100m' })];
  const r = util(pods, usage({ a: 1010, b: 1030, c: 1020 }), 100);
  t.is(r.replicas, 3);
  t.is(r.utilization, 102);
});

test('an unready pod counts as using nothing on a scale-up, which then grows less', (t) => {
  const pods = [pod('a', { ready: false, startedAgoMs: 60_000 }), pod('b'), pod('c')];
  const r = util(pods, usage({ a: 300, b: 500, c: 700 }), 30);
  // the ready pods use 60%; with the unready one at 0: 40% of 30% on three pods
  t.deepEqual(r, { replicas: 4, utilization: 60, rawAverageMilli: 600 });
});

test('a pod still starting whose sample predates a full window since it turned ready is unready', (t) => {
  const pods = [pod('a', { startedAgoMs: 60_000, readySinceAgoMs: 10_000 }), pod('b'), pod('c')];
  t.is(util(pods, usage({ a: 3000, b: 500, c: 700 }), 30).replicas, 4);
  // a pod ready long enough (a full window before the sample) counts with its usage
  const settled = [pod('a', { startedAgoMs: 60_000, readySinceAgoMs: 45_000 }), pod('b'), pod('c')];
  t.is(util(settled, usage({ a: 300, b: 500, c: 700 }), 30).replicas, 5);
});

test('pending pods are unready, deleted and failed ones are ignored', (t) => {
  const pods = [pod('a'), pod('p', { phase: 'Pending' }), pod('d', { deleted: true }), pod('f', { phase: 'Failed' })];
  // one ready pod at 100% of a 50% target; the pending one is counted at 0 on the way up: 50% on two pods
  t.is(util(pods, usage({ a: 1000, d: 5000, f: 5000 }), 50, 2).replicas, 2);
});

test('missing metrics: at the whole request on a scale-down, at 0 on a scale-up, and no change when that flips the direction', (t) => {
  const four = ['a', 'b', 'c', 'm'].map((n) => pod(n));
  // down: 10% -> the missing pod at 100% of its request: 1300m of 4000m is 32.5% of 50%: three
  t.is(util(four, usage({ a: 100, b: 100, c: 100 }), 50).replicas, 3);
  // up: 100% -> the missing pod at 0: 75% of 50%: six
  t.is(util(four, usage({ a: 1000, b: 1000, c: 1000 }), 50).replicas, 6);
  // 60% looks like a scale-up but with the missing pod at 0 it is 45%: keep four
  t.is(util(four, usage({ a: 600, b: 600, c: 600 }), 50).replicas, 4);
});

test('errors: no pods, no usable metrics, a container without a request', (t) => {
  t.throws(() => util([], usage({}), 50), { message: 'no pods returned by selector while calculating replica count' });
  t.throws(() => util([pod('a', { phase: 'Pending' })], usage({ a: 100 }), 50), {
    message: 'did not receive metrics for targeted pods (pods might be unready)',
  });
  t.throws(() => util([pod('a', { request: null })], usage({ a: 100 }), 50), { message: 'missing request for cpu in container c of Pod a' });
});

test('an average value target: 300m per pod against 150m doubles the pods', (t) => {
  const pods = ['a', 'b', 'c'].map((n) => pod(n, { request: null }));
  const r = resourceAverageValueReplicas({ currentReplicas: 3, pods, metrics: usage({ a: 200, b: 300, c: 400 }), resource: 'cpu', nowMs: NOW }, 150);
  t.deepEqual(r, { replicas: 6, rawAverageMilli: 300 });
});

test('PodMetrics sum their containers; a pod missing the resource in one container is left out', (t) => {
  const m = podMetricsOf(
    [
      {
        metadata: { name: 'a' },
        timestamp: iso(NOW),
        window: '15.5s',
        containers: [
          { name: 'x', usage: { cpu: '250m' } },
          { name: 'y', usage: { cpu: '500000n' } },
        ],
      },
      {
        metadata: { name: 'b' },
        timestamp: iso(NOW),
        window: '15s',
        containers: [
          { name: 'x', usage: { cpu: '1' } },
          { name: 'y', usage: {} },
        ],
      },
    ],
    'cpu',
  );
  t.deepEqual([...m.keys()], ['a']);
  t.deepEqual(m.get('a'), { valueMilli: 251, timestampMs: NOW, windowMs: 15_500 });
});

const UP: Rules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
const DOWN: Rules = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };

test('stabilization: a scale-down takes the highest recommendation of the last 300 s, a scale-up is immediate', (t) => {
  const recent = [{ replicas: 5, atMs: NOW - 100_000 }];
  const down = stabilize(recent, 5, 2, UP, DOWN, NOW);
  t.is(down.replicas, 5);
  t.is(down.reason, 'ScaleDownStabilized');
  t.deepEqual(down.recs, [...recent, { replicas: 2, atMs: NOW }]);
  t.is(stabilize([{ replicas: 5, atMs: NOW - 400_000 }], 5, 2, UP, DOWN, NOW).replicas, 2);
  const up = stabilize(recent, 5, 8, UP, DOWN, NOW);
  t.is(up.replicas, 8);
  t.is(up.reason, 'ScaleUpStabilized');
  // a recommendation older than both windows is replaced, not kept
  t.deepEqual(stabilize([{ replicas: 5, atMs: NOW - 400_000 }], 5, 2, UP, DOWN, NOW).recs, [{ replicas: 2, atMs: NOW }]);
});

test('scale-up limits: the larger of +4 pods and +100% per 15 s, less what was already added in the period', (t) => {
  t.is(scaleUpLimit(1, [], [], UP, NOW), 5);
  t.is(scaleUpLimit(10, [], [], UP, NOW), 20);
  t.is(scaleUpLimit(5, [{ change: 4, atMs: NOW - 5_000 }], [], UP, NOW), 5);
  t.is(scaleUpLimit(5, [{ change: 4, atMs: NOW - 20_000 }], [], UP, NOW), 10);
  t.is(scaleUpLimit(10, [], [], { ...UP, selectPolicy: 'Min' }, NOW), 14);
  t.is(scaleUpLimit(10, [], [], { ...UP, selectPolicy: 'Disabled' }, NOW), 10);
});

test('scale-down limits: Percent 100 allows all; Pods 1 one per period; Min picks the smaller change', (t) => {
  t.is(scaleDownLimit(8, [], [], DOWN, NOW), 0);
  const slow: Rules = {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 1, periodSeconds: 60 },
      { type: 'Percent', value: 50, periodSeconds: 60 },
    ],
  };
  t.is(scaleDownLimit(8, [], [], slow, NOW), 4);
  t.is(scaleDownLimit(8, [], [], { ...slow, selectPolicy: 'Min' }, NOW), 7);
  t.is(scaleDownLimit(7, [], [{ change: 1, atMs: NOW - 30_000 }], { ...slow, selectPolicy: 'Min' }, NOW), 7);
});

test('rate limiting names why: ScaleUpLimit, TooManyReplicas, ScaleDownLimit, TooFewReplicas, DesiredWithinRange', (t) => {
  const base = { min: 1, max: 20, up: UP, down: DOWN, ups: [], downs: [], nowMs: NOW };
  t.like(limitByRate({ ...base, current: 2, desired: 10 }), {
    replicas: 6,
    reason: 'ScaleUpLimit',
    message: 'the desired replica count is increasing faster than the maximum scale rate',
  });
  t.like(limitByRate({ ...base, max: 5, current: 1, desired: 10 }), {
    replicas: 5,
    reason: 'TooManyReplicas',
    message: 'the desired replica count is more than the maximum replica count',
  });
  const onePod: Rules = { ...DOWN, policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }] };
  t.like(limitByRate({ ...base, down: onePod, current: 5, desired: 1 }), { replicas: 4, reason: 'ScaleDownLimit' });
  t.like(limitByRate({ ...base, min: 3, current: 5, desired: 1 }), {
    replicas: 3,
    reason: 'TooFewReplicas',
    message: 'the desired replica count is less than the minimum replica count',
  });
  t.like(limitByRate({ ...base, current: 5, desired: 7 }), {
    replicas: 7,
    reason: 'DesiredWithinRange',
    message: 'the desired count is within the acceptable range',
  });
});

test('scale events older than the longest policy period are reused', (t) => {
  const evs = recordScaleEvent(
    [
      { change: 2, atMs: NOW - 20_000 },
      { change: 1, atMs: NOW - 5_000 },
    ],
    3,
    UP,
    NOW,
  );
  t.deepEqual(evs, [
    { change: 3, atMs: NOW },
    { change: 1, atMs: NOW - 5_000 },
  ]);
});

test('a condition keeps its transition time while its status stays', (t) => {
  const a = setCondition([], 'AbleToScale', 'True', 'SucceededGetScale', 'm1', 't1');
  const b = setCondition(a, 'AbleToScale', 'True', 'ReadyForNewScale', 'm2', 't2');
  t.deepEqual(b, [{ type: 'AbleToScale', status: 'True', lastTransitionTime: 't1', reason: 'ReadyForNewScale', message: 'm2' }]);
  t.is(setCondition(b, 'AbleToScale', 'False', 'FailedGetScale', 'm3', 't3')[0]!.lastTransitionTime, 't3');
});
