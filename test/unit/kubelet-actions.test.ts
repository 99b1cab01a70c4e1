// What a sync does to a pod's containers: init containers in order, restarts per restartPolicy with
// back-off, kills for failed probes and changed specs.
import test from 'ava';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { computeActions, type ActionInput, type Instance } from '../../agents/kubelet/pods/container-actions.ts';

const c = (name: string, extra: Partial<V1Container> = {}): V1Container => ({ name, image: 'img', ...extra });
const pod = (spec: Partial<V1Pod['spec']>): V1Pod => ({ metadata: { name: 'p', namespace: 'd', uid: 'u' }, spec: { containers: [c('app')], ...spec } });
const inst = (name: string, state: string, extra: Partial<Instance> = {}): Instance => ({
  id: `${name}-${state}`,
  name,
  attempt: 0,
  state,
  hash: 'h',
  ...extra,
});

const plan = (p: V1Pod, instances: Instance[], over: Partial<ActionInput> = {}) =>
  computeActions({
    pod: p,
    current: new Map(instances.reduce((m, i) => m.set(i.name, [...(m.get(i.name) ?? []), i]), new Map<string, Instance[]>())),
    hash: () => 'h',
    probeFailed: () => undefined,
    started: () => true,
    backoff: () => ({ remainingMs: 0, currentMs: 0 }),
    ...over,
  });
const names = (a: ReturnType<typeof plan>) => ({ start: a.start.map((s) => s.container.name), kill: a.kill.map((k) => k.name) });

test('a new pod starts its first init container only; app containers wait', (t) => {
  const p = pod({ initContainers: [c('i1'), c('i2')] });
  t.deepEqual(names(plan(p, [])), { start: ['i1'], kill: [] });
  t.deepEqual(names(plan(p, [inst('i1', 'CONTAINER_RUNNING')])), { start: [], kill: [] });
  t.deepEqual(names(plan(p, [inst('i1', 'CONTAINER_EXITED', { exitCode: 0 })])), { start: ['i2'], kill: [] });
  t.deepEqual(names(plan(p, [inst('i1', 'CONTAINER_EXITED', { exitCode: 0 }), inst('i2', 'CONTAINER_EXITED', { exitCode: 0 })])), { start: ['app'], kill: [] });
});

test('a failed init container: restarted (after back-off) unless restartPolicy is Never', (t) => {
  const failed = [inst('i1', 'CONTAINER_EXITED', { exitCode: 1, finishedAtMs: 5 })];
  t.deepEqual(names(plan(pod({ initContainers: [c('i1')], restartPolicy: 'Never' }), failed)), { start: [], kill: [] });
  t.deepEqual(names(plan(pod({ initContainers: [c('i1')] }), failed)), { start: ['i1'], kill: [] });
  const waiting = plan(pod({ initContainers: [c('i1')] }), failed, { backoff: () => ({ remainingMs: 7000, currentMs: 10_000 }) });
  t.deepEqual(names(waiting), { start: [], kill: [] });
  t.is(waiting.waiting.get('i1')!.reason, 'CrashLoopBackOff');
  t.is(waiting.waiting.get('i1')!.message, 'back-off 10s restarting failed container=i1 pod=p_d(u)');
  t.is(waiting.requeueMs, 7000);
});

test('once an app container has run, init containers are not run again', (t) => {
  const p = pod({ initContainers: [c('i1')] });
  t.deepEqual(names(plan(p, [inst('app', 'CONTAINER_RUNNING')])), { start: [], kill: [] });
});

test('restartPolicy: Always restarts any exit, OnFailure only failures, Never nothing', (t) => {
  const ok = [inst('app', 'CONTAINER_EXITED', { exitCode: 0 })];
  const bad = [inst('app', 'CONTAINER_EXITED', { exitCode: 2 })];
  t.deepEqual(names(plan(pod({ restartPolicy: 'Always' }), ok)).start, ['app']);
  t.deepEqual(names(plan(pod({ restartPolicy: 'OnFailure' }), ok)).start, []);
  t.deepEqual(names(plan(pod({ restartPolicy: 'OnFailure' }), bad)).start, ['app']);
  t.deepEqual(names(plan(pod({ restartPolicy: 'Never' }), bad)).start, []);
  const backing = plan(pod({}), bad, { backoff: () => ({ remainingMs: 19_000, currentMs: 20_000 }) });
  t.deepEqual(backing.backingOff, ['app']);
  t.regex(backing.waiting.get('app')!.message!, /^back-off 20s restarting failed container=app pod=p_d\(u\)$/);
});

test('a failed liveness or startup probe kills and restarts at once; Never only kills', (t) => {
  const running = [inst('app', 'CONTAINER_RUNNING')];
  const live = plan(pod({}), running, { probeFailed: () => 'liveness' });
  t.deepEqual(live.kill, [{ id: 'app-CONTAINER_RUNNING', name: 'app', message: 'Container app failed liveness probe, will be restarted' }]);
  t.true(live.start[0].afterKill);
  t.is(plan(pod({}), running, { probeFailed: () => 'startup' }).kill[0].message, 'Container app failed startup probe, will be restarted');
  t.deepEqual(names(plan(pod({ restartPolicy: 'Never' }), running, { probeFailed: () => 'liveness' })), { start: [], kill: ['app'] });
});

test('a changed container spec restarts that container', (t) => {
  const a = plan(pod({}), [inst('app', 'CONTAINER_RUNNING', { hash: 'old' })]);
  t.deepEqual(names(a), { start: ['app'], kill: ['app'] });
  t.is(a.kill[0].message, 'Container app definition changed, will be restarted');
});

test('sidecars start in order and must be started before the next init container', (t) => {
  const p = pod({ initContainers: [c('side', { restartPolicy: 'Always' }), c('i2')] });
  t.deepEqual(names(plan(p, [])).start, ['side']);
  t.deepEqual(names(plan(p, [inst('side', 'CONTAINER_RUNNING')], { started: () => false })).start, []);
  t.deepEqual(names(plan(p, [inst('side', 'CONTAINER_RUNNING')])).start, ['i2']);
  const later = plan(p, [inst('side', 'CONTAINER_EXITED', { exitCode: 1 }), inst('i2', 'CONTAINER_EXITED', { exitCode: 0 }), inst('app', 'CONTAINER_RUNNING')]);
  t.deepEqual(names(later).start, ['side'], 'a sidecar that exits is restarted while the app runs');
});

test('an ephemeral container starts once, after initialization, and is never restarted', (t) => {
  const dbg = { name: 'dbg', image: 'img', targetContainerName: 'app' };
  const p = pod({ initContainers: [c('i1')], ephemeralContainers: [dbg] });
  t.deepEqual(names(plan(p, [inst('i1', 'CONTAINER_RUNNING')])), { start: [], kill: [] }, 'not while init containers run');
  t.deepEqual(names(plan(p, [inst('i1', 'CONTAINER_EXITED', { exitCode: 0 }), inst('app', 'CONTAINER_RUNNING')])), { start: ['dbg'], kill: [] });
  const done = [inst('i1', 'CONTAINER_EXITED', { exitCode: 0 }), inst('app', 'CONTAINER_RUNNING'), inst('dbg', 'CONTAINER_EXITED', { exitCode: 1 })];
  t.deepEqual(names(plan(p, done)), { start: [], kill: [] });
});
