// The pod start-up timeline: marks land on the right pod through async calls and the runtime gate,
// stages add up to the latency, and the log lines parse back.
import test from 'ava';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Wire } from '../../agents/api/wire.ts';
import { allStarted } from '../../agents/kubelet/kubelet.ts';
import { gate } from '../../agents/kubelet/pods/cri-runtime.ts';
import { parseTimelines, STAGES, stageDurations, StartupTrace } from '../../agents/kubelet/pods/startup-trace.ts';

const clock = () => {
  let t = 1000;
  return {
    now: () => t,
    step: (ms: number) => {
      t += ms;
    },
  };
};

test('marks go to the pod whose work is running, the first one wins, unknown pods are ignored', async (t) => {
  const c = clock();
  const tr = new StartupTrace(c.now);
  tr.begin('a', 'ns/a');
  tr.begin('b', 'ns/b');
  const limit = gate(1);
  const work = (uid: string, ms: number) =>
    tr.run(uid, async () => {
      tr.mark('sandbox.queued');
      await limit(async () => {
        tr.mark('sandbox.rpc');
        await new Promise((r) => setTimeout(r, 5));
        c.step(ms);
      });
      tr.mark('sandbox.done');
      tr.mark('sandbox.done'); // a second time changes nothing
    });
  await Promise.all([work('a', 10), work('b', 20)]);
  tr.mark('seen', 'zzz');
  tr.mark('sync'); // outside any pod: nowhere to go
  const a = tr.finish('a')!;
  const b = tr.finish('b')!;
  t.is(a.name, 'ns/a');
  t.deepEqual(Object.keys(a.marks).sort(), ['sandbox.done', 'sandbox.queued', 'sandbox.rpc', 'seen']);
  // b waited for a's turn: its rpc mark comes after a's call took its 10 ms
  t.is(a.marks['sandbox.rpc'], 1000);
  t.is(b.marks['sandbox.queued'], 1000);
  t.is(b.marks['sandbox.rpc'], 1010);
  t.is(b.marks['sandbox.done'], 1030);
  t.false(tr.tracing('a'));
  t.is(tr.finish('zzz'), undefined);
});

test('begin is once per pod; forget drops a timeline', (t) => {
  const c = clock();
  const tr = new StartupTrace(c.now);
  tr.begin('a', 'ns/a');
  c.step(50);
  tr.begin('a', 'ns/a');
  t.true(tr.tracing('a'));
  tr.forget('a');
  t.false(tr.tracing('a'));
  tr.begin('a', 'ns/a');
  t.is(tr.finish('a')!.marks.seen, 1050);
});

test('consecutive stages add up to the whole start-up; missing marks leave stages out', (t) => {
  const marks: Record<string, number> = {};
  let at = 0;
  for (const [from] of STAGES) marks[from] ??= at += 7;
  marks.observed = at + 100;
  marks['running.acked'] = marks['running.sent'] + 40;
  const d = stageDurations(marks);
  const sum = STAGES.reduce((s, [, , label]) => s + d.get(label)!, 0);
  t.is(sum, marks.observed - marks.created);
  t.is(d.get('(status PATCH round trip)'), 40);
  const partial = stageDurations({ created: 0, seen: 30, 'start.done': 900, 'running.sent': 950 });
  t.deepEqual([...partial.keys()], [STAGES[0][2], 'started -> status PATCH sent (list, status, writer)']);
});

test('timeline log lines parse back by pod; other and torn lines are skipped', (t) => {
  const text = [
    JSON.stringify({ level: 30, msg: 'pod startup timeline', pod: 'ns/a', marks: { seen: 1, sync: 2 } }),
    JSON.stringify({ level: 30, msg: 'sandbox started', pod: 'ns/b' }),
    '{"level":30,"msg":"pod startup timeline","pod":"ns/c","marks":{"se',
    '',
  ].join('\n');
  const m = parseTimelines(text);
  t.deepEqual([...m.keys()], ['ns/a']);
  t.deepEqual(m.get('ns/a'), { seen: 1, sync: 2 });
});

test('allStarted: Running with every app container running, as the SLI counts a pod started', (t) => {
  const pod: V1Pod = { spec: { containers: [{ name: 'a' }, { name: 'b' }] } };
  const st = (phase: string, ...running: boolean[]): Wire<V1PodStatus> => ({
    phase,
    containerStatuses: running.map((r, i) => ({
      name: `c${i}`,
      image: '',
      imageID: '',
      ready: r,
      restartCount: 0,
      state: r ? { running: {} } : { waiting: { reason: 'ContainerCreating' } },
    })),
  });
  t.true(allStarted(pod, st('Running', true, true)));
  t.false(allStarted(pod, st('Running', true, false)));
  t.false(allStarted(pod, st('Running', true)));
  t.false(allStarted(pod, st('Pending', true, true)));
});
