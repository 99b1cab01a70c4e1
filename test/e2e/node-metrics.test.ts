// Resource metrics on a two-node lab with the real kubectl v1.35: a pod burning one CPU shows in
// `kubectl top pods` within 20% of what its own cgroup (cpuacct.usage) counted over the same
// window the metrics API measured (the machine is shared, so the cgroup is the reference, not
// 1000m); `kubectl top nodes` lists both nodes; the kubelet's /stats/summary through the API
// server's node proxy has upstream's fields, /metrics/cadvisor cAdvisor's; the kubelet answers
// 127.0.0.1:10248/healthz, podnet 10262/readyz and the CNI daemon 10263/readyz in its netns.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Cluster, downLab, eventually, kubectlOk, namespace, upLab, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['mtr', '10.73.0.0/24'] as const;
let L: NodeLab;

test.before(async () => {
  L = await upLab(...LAB);
});
test.after.always(async () => {
  await downLab(...LAB);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const milli = (q: string) =>
  q.endsWith('n') ? Number(q.slice(0, -1)) / 1e6 : q.endsWith('u') ? Number(q.slice(0, -1)) / 1e3 : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;

/** Cumulative CPU nanoseconds of a BestEffort pod's cgroup (cgroup v1 cpuacct, or v2 cpu.stat), at the time read. */
function cgroupCpu(node: string, uid: string): { atMs: number; ns: number } {
  const v1 = `/sys/fs/cgroup/cpuacct/hawser/${node}/besteffort/pod${uid}/cpuacct.usage`;
  try {
    return { atMs: Date.now(), ns: Number(readFileSync(v1, 'utf8')) };
  } catch {
    const stat = readFileSync(`/sys/fs/cgroup/hawser/${node}/besteffort/pod${uid}/cpu.stat`, 'utf8');
    return { atMs: Date.now(), ns: Number(/^usage_usec (\d+)/m.exec(stat)![1]) * 1000 };
  }
}

/** The cgroup's counter at a time, interpolated between the samples around it. */
function at(samples: { atMs: number; ns: number }[], ms: number): number | undefined {
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!;
    const b = samples[i]!;
    if (a.atMs <= ms && ms <= b.atMs) return a.ns + ((b.ns - a.ns) * (ms - a.atMs)) / Math.max(1, b.atMs - a.atMs);
  }
  return undefined;
}

const goSeconds = (w: string) =>
  w.endsWith('ms') ? Number(w.slice(0, -2)) / 1000 : Number(w.replace(/^(?:(\d+)m)?([\d.]+)s$/, (_, m, s) => String(Number(m ?? 0) * 60 + Number(s))));

test('a pod burning one CPU shows in kubectl top within 20% of its cgroup over the same window; top nodes lists both nodes', async (t) => {
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'burn', labels: { app: 'burn' } },
      spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'spin', image: L.testapp, command: ['sh', '-c', 'while :; do :; done'] }] },
    }),
  );
  const p = await c.waitRunning('burn');
  const node: string = p.spec.nodeName;
  const samples: { atMs: number; ns: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    for (let i = 0; sampling && i < 600; i++) {
      samples.push(cgroupCpu(node, p.metadata.uid));
      await sleep(250);
    }
  })();
  try {
    // two scrapes (15 s apart) give the first usage; then compare one reading with the cgroup over its window
    const m = await eventually(
      'pod metrics',
      async () => {
        const r = await c.run(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${c.ns}/pods/burn`]);
        if (r.code !== 0) return undefined;
        const pm = JSON.parse(r.stdout);
        // the window must lie inside the sampled time (timestamps have whole seconds: one second of slack)
        const end = Date.parse(pm.timestamp) + 1000;
        return samples.length && end <= samples.at(-1)!.atMs && end - goSeconds(pm.window) * 1000 - 1000 >= samples[0]!.atMs ? pm : undefined;
      },
      90_000,
      1000,
    );
    const top = await c.ok(['top', 'pods', '--containers', '-l', 'app=burn']);
    const again = JSON.parse(await c.ok(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${c.ns}/pods/burn`]));
    t.log(top.trim());
    const row = /^burn\s+spin\s+(\d+)m\s+(\d+)Mi/m.exec(top);
    t.truthy(row, top);
    const shown = Number(row![1]);
    if (again.timestamp === m.timestamp) t.true(Math.abs(shown - milli(m.containers[0].usage.cpu)) <= 1, 'top shows the metrics API reading');
    // the cgroup over the metrics window: timestamps are whole seconds, so try the second's start and end
    const windowMs = goSeconds(m.window) * 1000;
    const rates = [0, 999]
      .map((off) => {
        const end = Date.parse(m.timestamp) + off;
        const a = at(samples, end - windowMs);
        const b = at(samples, end);
        return a === undefined || b === undefined ? NaN : (b - a) / 1e6 / (windowMs / 1000);
      })
      .filter((x) => Number.isFinite(x));
    t.true(rates.length > 0, 'the window lies inside the samples');
    const metricsMilli = milli(m.containers[0].usage.cpu);
    t.log(`metrics ${metricsMilli.toFixed(0)}m over ${m.window}; cgroup ${rates.map((r) => `${r.toFixed(0)}m`).join(' to ')}`);
    t.true(
      rates.some((r) => Math.abs(metricsMilli - r) <= 0.2 * r),
      `metrics ${metricsMilli}m vs cgroup ${rates.join(', ')}m`,
    );
    t.true(metricsMilli > 100, 'a busy loop shows real usage');
  } finally {
    sampling = false;
    await sampler;
  }
  const nodes = await eventually(
    'both nodes in top',
    async () => {
      const r = await c.run(['top', 'nodes', '--no-headers']);
      const names = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]);
      return r.code === 0 && names.length >= 2 ? names : undefined;
    },
    60_000,
    2000,
  );
  const all = JSON.parse(await kubectlOk(L.kc, ['get', 'nodes', '-o', 'json'])).items.map((n: any) => n.metadata.name);
  t.deepEqual([...nodes].sort(), [...all].sort());
});

test('/stats/summary and /metrics/cadvisor through the node proxy; the kubelet, podnet and CNI daemon health answer on loopback in the node netns', async (t) => {
  const nodes = JSON.parse(await kubectlOk(L.kc, ['get', 'nodes', '-o', 'json'])).items.map((n: any) => n.metadata.name as string);
  // a pod of this test's own on the node asked (the previous test's pod may be going away)
  const c = new Cluster(L.kc, await namespace(t, L.kc));
  await c.apply(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'idle' },
      spec: {
        terminationGracePeriodSeconds: 0,
        nodeSelector: { 'kubernetes.io/hostname': nodes[0] },
        containers: [{ name: 'sleeper', image: L.testapp, command: ['sh', '-c', 'while :; do sleep 1; done'] }],
      },
    }),
  );
  await c.waitRunning('idle');
  // usageNanoCores is a rate: the kubelet has it from its second reading on (as upstream's CRI stats)
  const s = await eventually(
    'a summary with CPU rates',
    async () => {
      const r = JSON.parse(await kubectlOk(L.kc, ['get', '--raw', `/api/v1/nodes/${nodes[0]}/proxy/stats/summary`]));
      return r.node.cpu?.usageNanoCores !== undefined && r.pods.some((x: any) => x.containers.length && x.cpu?.usageNanoCores !== undefined) ? r : undefined;
    },
    60_000,
    2000,
  );
  t.is(s.node.nodeName, nodes[0]);
  for (const k of ['usageNanoCores', 'usageCoreNanoSeconds']) t.true(k in s.node.cpu, `node.cpu.${k}`);
  for (const k of ['workingSetBytes', 'usageBytes', 'rssBytes', 'availableBytes']) t.true(k in s.node.memory, `node.memory.${k}`);
  t.truthy(s.node.network?.interfaces);
  t.true(s.node.fs.capacityBytes > 0);
  t.true(s.node.runtime.imageFs.capacityBytes > 0);
  t.true(s.pods.length > 0);
  const pod = s.pods.find((x: any) => x.containers.length && x.cpu?.usageNanoCores !== undefined);
  t.log(JSON.stringify(pod.containers[0]).slice(0, 800));
  for (const k of ['podRef', 'startTime', 'containers', 'cpu', 'memory', 'ephemeral-storage']) t.true(k in pod, `pods[].${k}`);
  t.truthy(pod.containers[0].name);
  for (const k of ['cpu', 'memory', 'rootfs', 'logs']) t.true(k in pod.containers[0], `pods[].containers[].${k}`);
  t.regex(pod.containers[0].startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const metrics = await kubectlOk(L.kc, ['get', '--raw', `/api/v1/nodes/${nodes[0]}/proxy/metrics/resource`]);
  t.regex(metrics, /^node_cpu_usage_seconds_total [\d.e+]+ \d{13}$/m);
  t.regex(metrics, /^resource_scrape_error 0$/m);
  for (const n of nodes) {
    const netns = L.lab.nodes.find((x) => x.name === n)?.netns;
    if (!netns) continue;
    const out = execFileSync('nsenter', [`--net=/var/run/netns/${netns}`, 'curl', '-s', 'http://127.0.0.1:10248/healthz?verbose'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    t.is(out, '[+]ping ok\n[+]log ok\n[+]syncloop ok\nhealthz check passed\n', n);
    const ready = (port: number) =>
      execFileSync('nsenter', [`--net=/var/run/netns/${netns}`, 'curl', '-s', `http://127.0.0.1:${port}/readyz?verbose`], {
        encoding: 'utf8',
        timeout: 10_000,
      });
    t.is(ready(10262), '[+]ping ok\n[+]log ok\n[+]informer-sync ok\n[+]reconciled ok\nreadyz check passed\n', `${n} podnet`);
    t.is(ready(10263), '[+]ping ok\n[+]log ok\n[+]serving ok\nreadyz check passed\n', `${n} CNI daemon`);
  }
  const cadvisor = await kubectlOk(L.kc, ['get', '--raw', `/api/v1/nodes/${nodes[0]}/proxy/metrics/cadvisor`]);
  t.regex(
    cadvisor,
    new RegExp(
      `^container_memory_working_set_bytes\\{container="sleeper",id="/[^"]+/[0-9a-f]{64}",image="[^"]+",name="[0-9a-f]{64}",namespace="${c.ns}",pod="idle"\\} [\\d.e+]+ \\d{13}$`,
      'm',
    ),
  );
  t.regex(
    cadvisor,
    new RegExp(
      `^container_network_receive_bytes_total\\{container="",id="/[^"]+pod[^"/]+",image="",interface="eth0",name="",namespace="${c.ns}",pod="idle"\\} \\d+ \\d{13}$`,
      'm',
    ),
  );
  t.regex(cadvisor, /^machine_cpu_cores\{boot_id="[^"]*",machine_id="[^"]*",system_uuid="[^"]*"\} \d+ \d{13}$/m);
  t.regex(cadvisor, /^container_scrape_error 0$/m);
});
