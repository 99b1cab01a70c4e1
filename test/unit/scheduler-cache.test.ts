import test from 'ava';
import { SchedulerCache } from '../../agents/control-plane/scheduler/cache.ts';
import { schedule } from '../../agents/control-plane/scheduler/filters.ts';

const node = (name: string, alloc: Record<string, string> = { cpu: '2', memory: '4Gi', pods: '110' }) => ({
  metadata: { name, labels: {} },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: alloc },
});
const pod = (name: string, o: { node?: string; phase?: string; cpu?: string; memory?: string; uid?: string } = {}) => ({
  metadata: { name, namespace: 'd', uid: o.uid ?? `uid-${name}` },
  spec: {
    nodeName: o.node,
    containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: o.cpu ?? '100m', memory: o.memory ?? '128Mi' } } }],
  },
  status: { phase: o.phase ?? 'Pending' },
});
const MI = 1024 * 1024;

test('bound pods count on their node; terminal and deleted pods release', (t) => {
  const c = new SchedulerCache();
  c.observePod(pod('a', { node: 'n1' }));
  c.observePod(pod('b', { node: 'n1', cpu: '250m' }));
  c.observePod(pod('pending'));
  c.observePod(pod('done', { node: 'n1', phase: 'Succeeded' }));
  t.deepEqual(c.usage('n1'), { pods: 2, milliCPU: 350, memory: 256 * MI });
  c.observePod(pod('a', { node: 'n1', phase: 'Failed' }));
  t.deepEqual(c.usage('n1'), { pods: 1, milliCPU: 250, memory: 128 * MI });
  c.deletePod(pod('b', { node: 'n1' }));
  t.deepEqual(c.usage('n1'), { pods: 0, milliCPU: 0, memory: 0 });
  c.deletePod(pod('never-seen'));
  t.deepEqual(c.usage('n1'), { pods: 0, milliCPU: 0, memory: 0 });
});

test('an assumed pod counts once, before and after the watch confirms it', (t) => {
  const c = new SchedulerCache();
  c.assume(pod('a'), 'n1');
  t.true(c.isAssumed('d/a'));
  t.is(c.usage('n1').pods, 1);
  // a status write that raced the binding: the watch still shows no node; the assumption stays
  c.observePod(pod('a'));
  t.true(c.isAssumed('d/a'));
  t.is(c.usage('n1').pods, 1);
  c.finishBinding('d/a', 0);
  c.observePod(pod('a', { node: 'n1' }));
  t.false(c.isAssumed('d/a'));
  t.deepEqual(c.usage('n1'), { pods: 1, milliCPU: 100, memory: 128 * MI });
  t.deepEqual(c.expire(Number.MAX_SAFE_INTEGER), [], 'a confirmed pod never expires');
  t.is(c.usage('n1').pods, 1);
});

test('the watch wins over the assumption when the pod landed elsewhere or was replaced', (t) => {
  const c = new SchedulerCache();
  c.assume(pod('a'), 'n1');
  c.observePod(pod('a', { node: 'n2' }));
  t.is(c.usage('n1').pods, 0);
  t.is(c.usage('n2').pods, 1);
  c.assume(pod('b'), 'n1');
  c.observePod(pod('b', { uid: 'another-b' })); // deleted and recreated under the same name
  t.false(c.isAssumed('d/b'));
  t.is(c.usage('n1').pods, 0);
});

test('a failed binding forgets the assumption', (t) => {
  const c = new SchedulerCache();
  c.assume(pod('a', { cpu: '1' }), 'n1');
  t.is(c.usage('n1').milliCPU, 1000);
  c.forget('d/a');
  t.false(c.isAssumed('d/a'));
  t.deepEqual(c.usage('n1'), { pods: 0, milliCPU: 0, memory: 0 });
  c.observePod(pod('b', { node: 'n1' }));
  c.forget('d/b');
  t.is(c.usage('n1').pods, 1, 'forget leaves confirmed pods alone');
});

test('assumptions expire only after their binding finished, after the TTL', (t) => {
  const c = new SchedulerCache(1000);
  c.assume(pod('a'), 'n1');
  t.deepEqual(c.expire(1e12), [], 'a binding still in flight never expires');
  c.finishBinding('d/a', 5000);
  t.deepEqual(c.expire(5999), []);
  t.is(c.usage('n1').pods, 1);
  t.deepEqual(c.expire(6000), ['d/a']);
  t.false(c.isAssumed('d/a'));
  t.is(c.usage('n1').pods, 0);
});

test('integer accounting: a thousand 100m pods come and go without drift', (t) => {
  const c = new SchedulerCache();
  for (let i = 0; i < 1000; i++) c.observePod(pod(`p${i}`, { node: 'n1', cpu: '100m', memory: '0.5Gi' }));
  t.deepEqual(c.usage('n1'), { pods: 1000, milliCPU: 100_000, memory: 500 * 1024 * MI });
  for (let i = 0; i < 1000; i++) c.deletePod(pod(`p${i}`, { node: 'n1' }));
  t.deepEqual(c.usage('n1'), { pods: 0, milliCPU: 0, memory: 0 });
});

test('nodes: parsed once, list refreshed on change, usage kept across removal', (t) => {
  const c = new SchedulerCache();
  c.setNode(node('n1'));
  const first = c.nodes();
  t.is(c.nodes(), first, 'the same array until a node changes');
  c.setNode(node('n2'));
  t.deepEqual(
    c.nodes().map((n) => n.name),
    ['n1', 'n2'],
  );
  t.is(c.nodes()[0].alloc.milliCPU, 2000);
  c.observePod(pod('a', { node: 'n2' }));
  c.removeNode('n2');
  t.deepEqual(
    c.nodes().map((n) => n.name),
    ['n1'],
  );
  c.setNode(node('n2'));
  t.is(c.usage('n2').pods, 1, 'a re-registered node still carries its pods');
});

test('deciding with assumptions never overfills a node', (t) => {
  const c = new SchedulerCache();
  c.setNode(node('n1', { cpu: '1', memory: '4Gi', pods: '3' }));
  c.setNode(node('n2', { cpu: '1', memory: '4Gi', pods: '3' }));
  const placed: string[] = [];
  let last;
  for (let i = 0; i < 8; i++) {
    const p = pod(`p${i}`, { cpu: '300m' });
    last = schedule(p, c.nodes(), (n) => c.usage(n));
    if (!last.node) break;
    c.assume(p, last.node);
    placed.push(last.node);
  }
  // 1 CPU per node fits three 300m pods: six in all, alternating by fewest pods then name
  t.deepEqual(placed, ['n1', 'n2', 'n1', 'n2', 'n1', 'n2']);
  t.is(last?.message, '0/2 nodes are available: 2 Too many pods.');
  c.forget('d/p0');
  t.is(schedule(pod('again', { cpu: '300m' }), c.nodes(), (n) => c.usage(n)).node, 'n1', 'a forgotten assumption frees its place');
  t.is(schedule(pod('big', { cpu: '500m' }), c.nodes(), (n) => c.usage(n)).message, '0/2 nodes are available: 1 Insufficient cpu, 1 Too many pods.');
});
