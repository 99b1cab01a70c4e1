// Node status inputs: eviction thresholds and pressure, allocatable, images, flag parsing, and the
// security context the node's runtime gets for a container.
import test from 'ava';
import { ApiClient } from '../../agents/api/client.ts';
import { logger } from '../../agents/api/log.ts';
import { NodeLoop, RUNTIME_CHECK_MS } from '../../agents/kubelet/node/node-loop.ts';
import type { NodeSpecInput } from '../../agents/kubelet/node/node-object.ts';
import type { RuntimeHealth } from '../../agents/kubelet/pods/runtime.ts';
import type { V1Pod } from '@kubernetes/client-node';
import { conditions, nodeImages, resources } from '../../agents/kubelet/node/node-object.ts';
import { DEFAULT_EVICTION_HARD, parseThresholds, pressure, type NodeStats } from '../../agents/kubelet/node/pressure.ts';
import { parseDuration, parsePercent, parseReserved } from '../../agents/kubelet/options.ts';
import { ConfigError } from '../../agents/kubelet/pods/env.ts';
import { containerSecurityContext, sandboxSecurityContext, verifyRunAsNonRoot } from '../../agents/kubelet/pods/security.ts';

const GiB = 1024 ** 3;
const stats = (o: Partial<NodeStats> = {}): NodeStats => ({
  memoryAvailable: 8 * GiB,
  memoryCapacity: 16 * GiB,
  nodefsAvailable: 50 * GiB,
  nodefsCapacity: 100 * GiB,
  inodesFree: 900,
  inodes: 1000,
  pidsAvailable: 30000,
  pidMax: 32768,
  ...o,
});

test('eviction thresholds: quantities and percentages; bad ones refused', (t) => {
  t.deepEqual(parseThresholds(DEFAULT_EVICTION_HARD), {
    'memory.available': { bytes: 100 * 1024 * 1024 },
    'nodefs.available': { percent: 10 },
    'imagefs.available': { percent: 15 },
    'nodefs.inodesFree': { percent: 5 },
  });
  t.throws(() => parseThresholds('memory.available>1Gi'));
  t.throws(() => parseThresholds('cpu.available<1'));
});

test('pressure: each signal against its threshold', (t) => {
  const th = parseThresholds(`${DEFAULT_EVICTION_HARD},pid.available<10%`);
  t.deepEqual(pressure(stats(), th), { memory: false, disk: false, pid: false });
  t.true(pressure(stats({ memoryAvailable: 50 * 1024 * 1024 }), th).memory);
  t.true(pressure(stats({ nodefsAvailable: 9 * GiB }), th).disk);
  t.true(pressure(stats({ inodesFree: 10 }), th).disk);
  t.true(pressure(stats({ imagefsAvailable: 1 * GiB, imagefsCapacity: 100 * GiB }), th).disk);
  t.true(pressure(stats({ pidsAvailable: 100 }), th).pid);
  t.false(pressure(stats({ pidsAvailable: 100 }), parseThresholds(DEFAULT_EVICTION_HARD)).pid, 'no pid threshold by default');
});

test('conditions follow pressure with upstream reasons', (t) => {
  const c = conditions({ runtimeReady: true, networkReady: true, message: 'ok' }, 'now', [], { memory: true, disk: false, pid: true });
  t.like(
    c.find((x) => x.type === 'MemoryPressure'),
    { status: 'True', reason: 'KubeletHasInsufficientMemory' },
  );
  t.like(
    c.find((x) => x.type === 'DiskPressure'),
    { status: 'False', reason: 'KubeletHasNoDiskPressure' },
  );
  t.like(
    c.find((x) => x.type === 'PIDPressure'),
    { status: 'True', reason: 'KubeletHasInsufficientPID' },
  );
});

test('allocatable: capacity minus reservations minus what hard eviction keeps back', (t) => {
  const r = resources({
    facts: { cpus: 2, memoryBytes: 4 * GiB, ephemeralStorageBytes: 100 * GiB } as never,
    maxPods: 110,
    reserved: { cpuMillis: 200, memoryBytes: 512 * 1024 * 1024, ephemeralStorageBytes: GiB },
    evictionHard: parseThresholds(DEFAULT_EVICTION_HARD),
  } as never);
  t.is(r.allocatable.cpu, '1800m');
  t.is(r.allocatable.memory, `${(4 * GiB - 512 * 1024 * 1024 - 100 * 1024 * 1024) / 1024}Ki`);
  t.is(r.allocatable['ephemeral-storage'], `${(100 * GiB - GiB - 10 * GiB) / 1024}Ki`);
});

test('node images: largest first, at most 50, digests then tags', (t) => {
  const imgs = Array.from({ length: 60 }, (_, i) => ({ tags: [`t${i}`], digests: [`d${i}`], size: i }));
  const out = nodeImages(imgs);
  t.is(out.length, 50);
  t.deepEqual(out[0], { names: ['d59', 't59'], sizeBytes: 59 });
});

test('flags: reservations, Go durations, percentages', (t) => {
  t.deepEqual(parseReserved('cpu=100m,memory=256Mi', { cpu: '0.1', 'ephemeral-storage': '1Gi' }), {
    cpuMillis: 200,
    memoryBytes: 256 * 1024 * 1024,
    ephemeralStorageBytes: GiB,
  });
  t.throws(() => parseReserved('gpu=1'));
  t.throws(() => parseReserved('cpu=lots'));
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('0s'), 0);
  t.throws(() => parseDuration('2 minutes'));
  t.is(parsePercent('x', undefined, 85), 85);
  t.throws(() => parsePercent('x', 120, 85));
});

const pod = (podSc: object, sc: object = {}): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u' },
  spec: { securityContext: podSc, containers: [{ name: 'c', image: 'i', securityContext: sc }] },
});

test('runAsNonRoot: explicit root, image root, non-numeric image user', (t) => {
  const check = (p: V1Pod, img: object) => verifyRunAsNonRoot(p, p.spec!.containers[0], img);
  t.throws(() => check(pod({ runAsNonRoot: true }, { runAsUser: 0 }), {}), {
    instanceOf: ConfigError,
    message: 'container\'s runAsUser breaks non-root policy (pod: "p_ns(u)", container: c)',
  });
  t.throws(() => check(pod({ runAsNonRoot: true }), {}), { message: 'container has runAsNonRoot and image will run as root (pod: "p_ns(u)", container: c)' });
  t.throws(() => check(pod({}, { runAsNonRoot: true }), { username: 'nobody' }), {
    message: /image has non-numeric user \(nobody\), cannot verify user is non-root/,
  });
  t.notThrows(() => check(pod({ runAsNonRoot: true, runAsUser: 1000 }), {}));
  t.notThrows(() => check(pod({ runAsNonRoot: true }), { uid: 65534 }));
  t.notThrows(() => check(pod({ runAsNonRoot: true }, { runAsNonRoot: false }), {}), 'the container setting wins');
});

test('container security context to CRI: users, groups, capabilities, read-only root, no_new_privs', (t) => {
  const p = pod(
    { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000] },
    {
      runAsUser: 65534,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  );
  t.like(containerSecurityContext(p, p.spec!.containers[0], {}), {
    privileged: false,
    runAsUser: { value: 65534 },
    runAsGroup: { value: 3000 },
    readonlyRootfs: true,
    noNewPrivs: true,
    supplementalGroups: [4000, 2000],
    capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
    seccomp: { profileType: 'RuntimeDefault' },
  });
  const img = pod({});
  t.like(containerSecurityContext(img, img.spec!.containers[0], { username: 'app' }), { runAsUsername: 'app' });
  const priv = pod({}, { privileged: true });
  t.true(sandboxSecurityContext(priv).privileged);
  t.like(sandboxSecurityContext({ ...priv, spec: { ...priv.spec!, hostNetwork: true, hostPID: true } }), {
    namespaceOptions: { network: 'NODE', pid: 'NODE', ipc: 'POD' },
  });
});

const facts = {
  cpus: 2,
  memoryBytes: 1 << 30,
  ephemeralStorageBytes: 1 << 30,
  osImage: 'x',
  kernelVersion: 'x',
  architecture: 'amd64',
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
};
const nodeSpec: NodeSpecInput = {
  name: 'n1',
  nodeIP: '10.0.0.1',
  labels: {},
  taints: [],
  facts,
  runtimeVersion: 'containerd://1.6.20',
  maxPods: 110,
  reserved: { cpuMillis: 0, memoryBytes: 0 },
  kubeletPort: 10250,
};

test('a relist asks the runtime for its health at most every 5 s, as upstream checks runtime state', async (t) => {
  let asked = 0;
  // a failing check keeps the loop away from the API: only how often it asks is seen
  const health = async (): Promise<RuntimeHealth> => {
    asked++;
    throw new Error('runtime down');
  };
  const loop = new NodeLoop(new ApiClient({ server: 'https://127.0.0.1:1' }), nodeSpec, health, logger('test'));
  for (let ms = 0; ms < RUNTIME_CHECK_MS; ms += 1000) await loop.poke(ms).catch(() => undefined);
  t.is(asked, 1, 'five relists within 5 s call CRI Status once');
  await loop.poke(RUNTIME_CHECK_MS).catch(() => undefined);
  t.is(asked, 2);
});

test('the status check reads the runtime health the relist just asked for, as upstream reads the kept runtime state', async (t) => {
  let asked = 0;
  const health = async (): Promise<RuntimeHealth> => {
    asked++;
    return { runtimeReady: true, networkReady: true, message: 'ok' };
  };
  let computed = 0; // statuses computed (the node's extras are read for each)
  const extras = async () => {
    computed++;
    return {};
  };
  // an API that refuses connections: the status is computed, then its PATCH fails
  const loop = new NodeLoop(new ApiClient({ server: 'https://127.0.0.1:1' }), nodeSpec, health, logger('test'), 60_000, extras);
  await loop.poke().catch(() => undefined);
  t.is(computed, 1);
  t.is(asked, 1, 'a relist that finds the health changed reports it without asking again');
  loop.start(); // its first status check runs at once
  for (let i = 0; i < 250 && computed < 2; i++) await new Promise((r) => setTimeout(r, 20));
  loop.stop();
  t.is(computed, 2, 'the status check ran');
  t.is(asked, 1, 'the status check right after a relist asks the runtime nothing');
});
