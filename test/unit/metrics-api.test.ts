// The built-in metrics-server's pure parts: reading /metrics/resource, the CPU rate between the
// last two points (restarts and stale points), and the quantities and window as metrics-server
// writes them.
import test from 'ava';
import { parseResourceMetrics } from '../../agents/control-plane/metrics/parse.ts';
import { MetricsStore } from '../../agents/control-plane/metrics/store.ts';
import { cpuQuantity, goDuration, memoryQuantity } from '../../agents/control-plane/metrics/objects.ts';

const text = (cpu: number, ms: number, start = 1.7e9) => `# HELP x y
container_cpu_usage_seconds_total{container="app",namespace="ns",pod="p"} ${cpu} ${ms}
container_memory_working_set_bytes{container="app",namespace="ns",pod="p"} 1.253376e+07 ${ms}
container_start_time_seconds{container="app",namespace="ns",pod="p"} ${start}
container_cpu_usage_seconds_total{container="lonely",namespace="ns",pod="p"} 1 ${ms}
node_cpu_usage_seconds_total ${cpu * 2} ${ms}
node_memory_working_set_bytes 1024 ${ms}
resource_scrape_error 0
`;

test('parse: node and container points with their timestamps; a container without memory is left out', (t) => {
  const b = parseResourceMetrics(text(4.5, 1000), 99);
  t.deepEqual(b.node, { cpuSeconds: 9, atMs: 1000, memoryBytes: 1024 });
  t.deepEqual([...b.containers.keys()], ['ns/p/app']);
  t.deepEqual(b.containers.get('ns/p/app'), { cpuSeconds: 4.5, atMs: 1000, memoryBytes: 12_533_760, startSeconds: 1.7e9 });
  t.is(parseResourceMetrics('node_cpu_usage_seconds_total 3\nnode_memory_working_set_bytes 5\n', 77).node?.atMs, 77, 'no timestamp: the scrape time');
});

test('store: usage needs two points; rate over their window; stale points ignored; a restart starts over', (t) => {
  const s = new MetricsStore();
  s.update('n', parseResourceMetrics(text(10, 10_000), 0));
  t.is(s.node('n'), undefined);
  t.is(s.pod('ns', 'p'), undefined);
  s.update('n', parseResourceMetrics(text(17.5, 25_000), 0));
  t.deepEqual(s.node('n'), { cpu: 1_000_000_000, memoryBytes: 1024, timestampMs: 25_000, windowMs: 15_000 });
  t.like(s.pod('ns', 'p'), { timestampMs: 25_000, windowMs: 15_000, containers: [{ name: 'app', usage: { cpu: 500_000_000, memoryBytes: 12_533_760 } }] });
  s.update('n', parseResourceMetrics(text(99, 25_000), 0));
  t.is(s.pod('ns', 'p')?.containers[0]?.usage.cpu, 500_000_000, 'a point no newer than the last changes nothing');
  s.update('n', parseResourceMetrics(text(20, 40_000, 1.8e9), 0));
  t.is(s.pod('ns', 'p'), undefined, 'the container restarted: one point again');
  s.retain(new Set());
  t.is(s.node('n'), undefined);
});

test('quantities and window as metrics-server prints them', (t) => {
  t.deepEqual([0, 500_000_000, 1_000_000_000, 123_456_789, 2_000, 1_500_000].map(cpuQuantity), ['0', '500m', '1', '123456789n', '2u', '1500u']);
  t.deepEqual([0, 1024, 1_048_576, 1_536_000, 12_533_760, 1000].map(memoryQuantity), ['0', '1Ki', '1Mi', '1500Ki', '12240Ki', '1000']);
  t.deepEqual([15_004, 800, 60_500, 3_600_000].map(goDuration), ['15.004s', '800ms', '1m0.5s', '1h0m0s']);
});
