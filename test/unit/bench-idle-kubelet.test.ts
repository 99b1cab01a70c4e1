// make bench-pods' idle kubelet figure (bench/cpu-budget.ts): a kubelet's CPU over an idle window
// as % of one core per 10 of its pods, per node and for all nodes together.
import test from 'ava';
import { idleKubelet, idleKubeletTable, idleKubeletTotal } from '../../bench/cpu-budget.ts';

test('idle kubelet CPU: cpu-s / window-s as % of a core, scaled to 10 pods; all nodes pooled; no pods is Infinity', (t) => {
  // 0.15 CPU-s over 30 s = 0.5% of a core, with 15 pods: 0.333% per 10 pods
  const a = idleKubelet('w1', { user: 0.1, sys: 0.05 }, 30, 15);
  t.is(a.cpuSeconds, 0.15000000000000002);
  t.is(a.percentPer10Pods.toFixed(3), '0.333');
  // 0.3 CPU-s over 30 s = 1% with 5 pods: 2% per 10 pods
  const b = idleKubelet('w2', { user: 0.2, sys: 0.1 }, 30, 5);
  t.is(b.percentPer10Pods.toFixed(3), '2.000');
  // pooled: 0.45 CPU-s / 30 s = 1.5% with 20 pods: 0.75% per 10 pods
  t.is(idleKubeletTotal([a, b]).percentPer10Pods.toFixed(3), '0.750');
  t.is(idleKubelet('w3', { user: 1, sys: 0 }, 30, 0).percentPer10Pods, Infinity);
  const table = idleKubeletTable([a, b]);
  t.regex(table[0]!, /target under 0\.5% of a core per 10 pods/);
  t.regex(table.at(-1)!, /all nodes\s+20 pods\s+0\.450 CPU-s\s+1\.500% of a core\s+0\.750% per 10 pods/);
});
