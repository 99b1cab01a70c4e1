// One pod worker pass over a fake runtime: a new pod gets its sandbox and container and its Running
// status in the same pass, from the containers the pass made (no second ListContainers), and the
// status still tells the truth when a container died at once or failed to start; an evicted pod is
// killed with upstream's eviction grace and reported Failed/Evicted, and not started again. The
// PLEG's relists after a pass requeue the pod only for what the pass did not make itself.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { logger } from '../../agents/api/log.ts';
import type { Wire } from '../../agents/api/wire.ts';
import { ImageManager } from '../../agents/kubelet/images/image-manager.ts';
import type { PodDeps } from '../../agents/kubelet/pods/deps.ts';
import type { EventRecorder } from '../../agents/kubelet/pods/events.ts';
import type { PodCgroups } from '../../agents/kubelet/pods/pod-cgroups.ts';
import { Pleg } from '../../agents/kubelet/pleg.ts';
import { PodSync } from '../../agents/kubelet/pods/pod-sync.ts';
import { RuntimeEchoes } from '../../agents/kubelet/runtime-echo.ts';
import type { ContainerDetail, ContainerInfo, PodRuntime, SandboxInfo } from '../../agents/kubelet/pods/runtime.ts';
import { ProbeManager } from '../../agents/kubelet/probes/probe-manager.ts';
import { VolumeManager } from '../../agents/kubelet/volumes/volume-manager.ts';

interface Fake {
  rt: PodRuntime;
  calls: Map<string, number>;
  exitAtOnce: Set<string>;
  failStart: Set<string>;
  stops: [string, number][];
  /** RunPodSandbox takes this long (relists run meanwhile) */
  sandboxDelayMs: number;
}

function fakeRuntime(): Fake {
  const calls = new Map<string, number>();
  const count = (k: string) => calls.set(k, (calls.get(k) ?? 0) + 1);
  const sandboxes: SandboxInfo[] = [];
  const containers: (ContainerInfo & { startedAt?: number })[] = [];
  const exitAtOnce = new Set<string>();
  const failStart = new Set<string>();
  const stops: [string, number][] = [];
  const fake = { sandboxDelayMs: 0 };
  let n = 0;
  const rt: Partial<PodRuntime> = {
    async listSandboxes(uid) {
      count('listSandboxes');
      if (uid === undefined) count('listAllSandboxes');
      return sandboxes.filter((s) => uid === undefined || s.uid === uid).map((s) => ({ ...s }));
    },
    async listContainers(uid) {
      count('listContainers');
      if (uid === undefined) count('listAllContainers');
      return containers.filter((c) => uid === undefined || c.uid === uid).map((c) => ({ ...c }));
    },
    async sandboxIP() {
      return '10.244.0.5';
    },
    async runSandbox(config) {
      const m = (config as { metadata: { uid: string; namespace: string; name: string; attempt: number } }).metadata;
      const id = `sb${++n}`;
      await new Promise((r) => setTimeout(r, fake.sandboxDelayMs));
      sandboxes.push({ id, uid: m.uid, namespace: m.namespace, name: m.name, attempt: m.attempt, ready: true, createdAt: Date.now() });
      return id;
    },
    async imageStatus(image) {
      return { id: `sha256:${image.length}`, size: 1, pinned: false, tags: [image], digests: [] };
    },
    async createContainer(sandboxId, config) {
      const c = config as { metadata: { name: string; attempt: number }; labels: Record<string, string> };
      const id = `c${++n}`;
      const uid = sandboxes.find((s) => s.id === sandboxId)!.uid;
      containers.push({
        id,
        sandboxId,
        uid,
        name: c.metadata.name,
        attempt: c.metadata.attempt,
        state: 'CONTAINER_CREATED',
        createdAt: Date.now(),
        hash: '',
        imageRef: '',
      });
      return id;
    },
    async startContainer(id) {
      const c = containers.find((x) => x.id === id)!;
      if (failStart.has(c.name)) throw new Error('runc: exec format error');
      c.state = exitAtOnce.has(c.name) ? 'CONTAINER_EXITED' : 'CONTAINER_RUNNING';
      c.startedAt = Date.now();
    },
    async containerDetail(id): Promise<ContainerDetail> {
      const c = containers.find((x) => x.id === id)!;
      const at = new Date(c.startedAt ?? c.createdAt).toISOString();
      const exited = c.state === 'CONTAINER_EXITED';
      return {
        id,
        state: c.state,
        attempt: c.attempt,
        exitCode: exited ? 3 : 0,
        reason: exited ? 'Error' : '',
        message: '',
        createdAt: at,
        startedAt: c.startedAt ? at : undefined,
        finishedAt: exited ? at : undefined,
        startedAtMs: c.startedAt ?? 0,
        finishedAtMs: exited ? Date.now() : 0,
        image: 'img:1',
        imageRef: 'sha256:x',
        logPath: '',
        mounts: [],
        annotations: {},
      } as ContainerDetail;
    },
    async exec() {
      return { exitCode: 0, output: '' };
    },
    async stopContainer(id, timeoutSec) {
      stops.push([id, timeoutSec]);
      const c = containers.find((x) => x.id === id)!;
      c.state = 'CONTAINER_EXITED';
    },
    async stopSandbox(id) {
      sandboxes.find((s) => s.id === id)!.ready = false;
    },
  };
  return Object.assign(fake, { rt: rt as PodRuntime, calls, exitAtOnce, failStart, stops });
}

function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-sync-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = fakeRuntime();
  const reasons: string[] = [];
  const events = {
    pod: (_p: V1Pod, _c: unknown, _t: string, reason: string) => {
      reasons.push(reason);
    },
    nodeEvent: () => undefined,
  } as unknown as EventRecorder;
  const written: Wire<V1PodStatus>[] = [];
  const objects = { configMap: () => undefined, secret: () => undefined, services: () => [] };
  const allocatable = () => ({ cpuMillis: 2000, memoryBytes: 4 << 30, ephemeralStorageBytes: 10 << 30 });
  const probes = new ProbeManager({ exec: async () => ({ exitCode: 0, output: '' }), onChange: () => undefined, event: () => undefined });
  t.teardown(() => probes.stop());
  const deps: PodDeps = {
    rt: f.rt,
    api: {} as PodDeps['api'],
    events,
    images: new ImageManager(f.rt, events),
    volumes: new VolumeManager({ rootDir: dir, lookups: objects, allocatable }),
    probes,
    cgroups: { ensure: () => undefined, remove: () => undefined, oomKills: () => undefined } as unknown as PodCgroups,
    objects,
    log: logger('test', 'silent'),
    ctx: {
      nodeName: 'n1',
      nodeIP: '10.0.0.1',
      rootDir: dir,
      podLogRoot: join(dir, 'logs'),
      cgroupRoot: '/test',
      dns: { servers: ['10.0.0.53'], searches: [], options: [] },
      clusterDomain: 'cluster.local',
      memoryCapacity: 4 << 30,
      allocatable,
      nodeHostsFile: () => '',
    },
    writeStatus: async (_pod, status) => {
      written.push(status);
      return true;
    },
  };
  return { f, sync: new PodSync(deps), written, reasons };
}

const newPod = (...names: string[]): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { nodeName: 'n1', restartPolicy: 'Always', containers: names.map((name) => ({ name, image: 'img:1', imagePullPolicy: 'IfNotPresent' })) },
  status: { phase: 'Pending' },
});

const settle = () => new Promise((r) => setTimeout(r, 20));
/** A written status as the API gives it back: the model type, holding the wire text. */
const readBack = (s: Wire<V1PodStatus>): V1PodStatus => JSON.parse(JSON.stringify(s)) as V1PodStatus;
const states = (s: Wire<V1PodStatus>) => (s.containerStatuses ?? []).map((c) => Object.keys(c.state ?? {})[0]).join(',');

test('a new pod is Running after one pass, with one ListContainers for the whole pass', async (t) => {
  const { f, sync, written } = setup(t);
  await sync.sync('u1', newPod('a', 'b'));
  await settle();
  t.is(f.calls.get('listContainers'), 1);
  t.is(f.calls.get('listAllContainers') ?? 0, 0, "the pass lists the pod's own containers only, as upstream by its UID label");
  t.is(f.calls.get('listAllSandboxes') ?? 0, 0);
  const last = written[written.length - 1];
  t.is(last.phase, 'Running');
  t.is(states(last), 'running,running');
  t.is(last.podIP, '10.244.0.5');
  t.is(states(written[0]), 'waiting,waiting', 'ContainerCreating goes out before the containers start');
});

test('a container that exits as it starts is reported terminated, not running', async (t) => {
  const { f, sync, written } = setup(t);
  f.exitAtOnce.add('b');
  await sync.sync('u1', newPod('a', 'b'));
  await settle();
  const last = written[written.length - 1];
  const b = last.containerStatuses!.find((c) => c.name === 'b')!;
  t.is(b.state?.terminated?.exitCode, 3);
  t.false(b.ready);
});

test('a container that fails to start shows RunContainerError', async (t) => {
  const { f, sync, written } = setup(t);
  f.failStart.add('a');
  const again = await sync.sync('u1', newPod('a'));
  await settle();
  const a = written[written.length - 1].containerStatuses!.find((c) => c.name === 'a')!;
  t.is(a.state?.waiting?.reason, 'RunContainerError');
  t.true(typeof again === 'number' && again > 0);
});

test('an evicted pod is killed with the eviction grace, reported Failed with reason Evicted, and not started again', async (t) => {
  const { f, sync, written, reasons } = setup(t);
  const pod = newPod('a');
  await sync.sync('u1', pod);
  await settle();
  pod.status = readBack(written[written.length - 1]);
  const message = 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ';
  sync.evict('u1', message);
  t.true(sync.evicting('u1'));
  await sync.sync('u1', pod);
  await settle();
  t.deepEqual(
    f.stops.map(([, grace]) => grace),
    [2],
    "upstream's 1 s eviction grace, raised to the 2 s minimum of a kill",
  );
  t.true(reasons.includes('Killing'));
  const last = written[written.length - 1];
  t.like(last, { phase: 'Failed', reason: 'Evicted', message });
  t.is(states(last), 'terminated');
  // a pass before the API shows the pod Failed (restartPolicy Always) starts nothing
  const made = (await f.rt.listContainers()).length;
  await sync.sync('u1', pod);
  t.is((await f.rt.listContainers()).length, made);
  t.is(f.stops.length, 1);
  // once the API shows it Failed, the pod is no longer being evicted
  await sync.sync('u1', { ...pod, status: readBack(last) });
  t.false(sync.evicting('u1'));
});

/** A fast PLEG over the fake runtime whose "changed" events pass the echo filter as the kubelet's do; the uids it requeued. */
async function echoingPleg(t: ExecutionContext, rt: ConstructorParameters<typeof Pleg>[0]['rt']) {
  const echoes = new RuntimeEchoes();
  const requeued: string[] = [];
  const pleg = new Pleg({
    rt,
    periodMs: 5,
    log: logger('test', 'silent'),
    hasPod: () => true,
    onEvent: (e) => {
      if (e.reason !== 'changed' || echoes.changed(e.uid, e.signature)) requeued.push(e.uid);
    },
    onFirstRelist: () => undefined,
    afterRelist: async () => undefined,
  });
  pleg.start();
  t.teardown(() => pleg.stop());
  await pleg.ready;
  return { echoes, requeued, pleg };
}

test('the relists after a pass that started a pod requeue nothing; a container exiting later requeues it', async (t) => {
  const { f, sync } = setup(t);
  f.sandboxDelayMs = 40; // relists run while the pass waits for its sandbox
  const { echoes, requeued, pleg } = await echoingPleg(t, f.rt);
  await echoes.around(
    'u1',
    () => sync.sync('u1', newPod('a', 'b')),
    () => sync.runtimeLeft('u1'),
    (uid) => pleg.recheck(uid),
  );
  await new Promise((r) => setTimeout(r, 60));
  t.deepEqual(requeued, [], 'the sandbox and containers the pass made are no news');
  const [a] = (await f.rt.listContainers()).filter((c) => c.name === 'a');
  await f.rt.stopContainer(a.id, 0);
  await new Promise((r) => setTimeout(r, 60));
  t.deepEqual(requeued, ['u1']);
});

test('a container that exits while its pass still runs requeues the pod after the pass', async (t) => {
  const { f, sync } = setup(t);
  const { echoes, requeued, pleg } = await echoingPleg(t, f.rt);
  // the pass left its container running; it exits before the pass ends and a relist sees that
  await echoes.around(
    'u1',
    async () => {
      const r = await sync.sync('u1', newPod('b'));
      const [b] = (await f.rt.listContainers()).filter((c) => c.name === 'b');
      await f.rt.stopContainer(b.id, 0);
      await new Promise((res) => setTimeout(res, 30));
      t.deepEqual(requeued, [], 'held while the pass runs');
      return r;
    },
    () => sync.runtimeLeft('u1'),
    (uid) => pleg.recheck(uid),
  );
  await new Promise((r) => setTimeout(r, 60));
  t.deepEqual(requeued, ['u1'], 'the next relist reports the exit the pass did not see');
});
