// The Node object the kubelet registers and reports (node/node-object.ts): conditions and allocatable.
import test from 'ava';
import { conditions, resources } from '../../agents/kubelet/node/node-object.ts';

test('node conditions: Ready needs runtime and network; transition time kept while unchanged', (t) => {
  const c1 = conditions({ runtimeReady: true, networkReady: false, message: 'cni config uninitialized' }, 't1');
  const ready1 = c1.find((c) => c.type === 'Ready')!;
  t.is(ready1.status, 'False');
  t.is(ready1.message, 'cni config uninitialized');
  const c2 = conditions({ runtimeReady: true, networkReady: true, message: 'ok' }, 't2', c1);
  t.is(c2.find((c) => c.type === 'Ready')!.status, 'True');
  t.is(c2.find((c) => c.type === 'Ready')!.lastTransitionTime as unknown, 't2');
  t.is(c2.find((c) => c.type === 'MemoryPressure')!.lastTransitionTime as unknown, 't1');
});

test('allocatable is capacity minus reservations', (t) => {
  const r = resources({ facts: { cpus: 2, memoryBytes: 4 * 1024 ** 3 } as never, reserved: { cpuMillis: 100, memoryBytes: 1024 ** 3 }, maxPods: 110 } as never);
  t.is(r.capacity.cpu, '2');
  t.is(r.allocatable.cpu, '1900m');
  t.is(r.allocatable.memory, `${3 * 1024 * 1024}Ki`);
  t.is(r.capacity.pods, '110');
});
