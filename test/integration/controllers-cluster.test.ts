// The controllers against a real control plane started in-process on loopback
// (startControlPlane), with kubelet-less nodes created through the API: a small simulator plays
// the kubelets (renews node Leases, marks bound pods Running/Ready with an IP, finishes Job pods,
// removes pods whose deletion started). The real kubectl v1.35 drives rollouts.
//
// The controller set runs under its leader Lease: when the control plane already runs it (wired
// into startControlPlane) the test's own copy stays a standby; otherwise the test's copy leads.
// It reaches the server over HTTPS through the same LoopbackClient interface the in-process
// controllers use. DaemonSet/StatefulSet/Job/CronJob are registered here if the server lacks them.
import test from 'ava';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeconfig, type ClusterAuth } from '../../agents/api/kubeconfig.ts';
import { logger } from '../../agents/api/log.ts';
import type { ApiHandler, ApiRequest, ApiResponse } from '../../agents/control-plane/apiserver/handler.ts';
import { RESOURCES, type ResourceInfo } from '../../agents/control-plane/apiserver/registry.ts';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { Informer } from '../../agents/control-plane/client/informer.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { startControlPlane } from '../../agents/control-plane/index.ts';
import { runControllerManager } from '../../agents/control-plane/controllers/leader/controller-set.ts';
import { runKubectl, until as waitUntil } from './_apiserver-kit.ts';
import type { Election } from '../../agents/control-plane/controllers/leader/leader.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
const dir = mkdtempSync(join(tmpdir(), 'hawser-ctrl-'));
const kubeconfig = join(dir, 'admin.kubeconfig');
const GRACE_S = 3;
const NODES = ['n1', 'n2', 'n3'];
const log = logger('controllers-test');

// ---- types the server may not register yet (one table entry each, as registry.ts says) ----
const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as ResourceInfo['verbs'];
const EXTRA: ResourceInfo[] = [
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1DaemonSet',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    singular: 'statefulset',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1StatefulSet',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1Job',
    nameRule: 'subdomain',
    generation: true,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    singular: 'cronjob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    verbs: ALL,
    subresources: ['status'],
    model: 'V1CronJob',
    nameRule: 'subdomain',
    generation: true,
  },
];
for (const r of EXTRA) if (!RESOURCES.some((x) => x.group === r.group && x.plural === r.plural)) RESOURCES.push(r);

// ---- an ApiHandler that forwards to the server over HTTPS ----
async function* jsonLines(res: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let buf = '';
  for await (const chunk of res) {
    buf += chunk.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield JSON.parse(line);
    }
  }
}

function remoteHandler(auth: ClusterAuth): ApiHandler {
  const u = new URL(auth.server);
  const agent = new https.Agent({ keepAlive: true, ca: auth.ca, cert: auth.cert, key: auth.key });
  const handle = (req: ApiRequest) =>
    new Promise<ApiResponse>((resolve, reject) => {
      const qs = req.query.toString();
      const r = https.request(
        {
          host: u.hostname,
          port: u.port,
          method: req.method,
          path: req.path + (qs ? `?${qs}` : ''),
          agent,
          signal: req.signal,
          headers: {
            'content-type': req.headers['content-type'] ?? 'application/json',
            accept: 'application/json',
            'content-length': String(req.body?.length ?? 0),
          },
        },
        (res) => {
          if (req.query.get('watch') === 'true' && res.statusCode === 200) return resolve({ kind: 'watch', frames: jsonLines(res) });
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => {
            try {
              resolve({ kind: 'object', status: res.statusCode ?? 500, body: body ? JSON.parse(body) : {} });
            } catch {
              resolve({ kind: 'object', status: res.statusCode ?? 500, body: { message: body } });
            }
          });
          res.on('error', reject);
        },
      );
      r.setNoDelay(true);
      r.on('error', reject);
      r.end(req.body);
    });
  return { handle } as unknown as ApiHandler;
}

// ---- the kubelet simulator ----
type Behaviour = { readyAfterMs?: number; exitAfterMs?: number; exitCode?: number; holdTerminating?: boolean };
const iso = (ms = Date.now()) => new Date(ms).toISOString();

class Kubelets {
  readonly dead = new Set<string>();
  private readonly started = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly informer: Informer;
  private readonly timers = new Set<NodeJS.Timeout>();
  private leaseTimer: NodeJS.Timeout | undefined;
  private ip = 10;
  behaviour: (pod: Obj) => Behaviour = () => ({});

  constructor(private readonly api: LoopbackClient) {
    this.informer = new Informer(api, '/api/v1/pods', { add: (p) => this.onPod(p), update: (p) => this.onPod(p) }, log);
  }

  async start(nodes: string[]): Promise<void> {
    for (const n of nodes) await this.addNode(n);
    await this.renew();
    this.leaseTimer = setInterval(() => void this.renew(), 700);
    this.informer.start();
    await this.informer.synced;
  }

  stop(): void {
    clearInterval(this.leaseTimer);
    for (const t of this.timers) clearTimeout(t);
    this.informer.stop();
  }

  nodes = new Set<string>();

  async addNode(name: string, taints?: unknown[]): Promise<void> {
    this.nodes.add(name);
    const now = iso();
    await this.api.create('/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
      spec: taints ? { taints } : {},
      status: {
        capacity: { cpu: '8', memory: '16Gi', pods: '110' },
        allocatable: { cpu: '8', memory: '16Gi', pods: '110' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        addresses: [{ type: 'InternalIP', address: `10.0.0.${this.nodes.size}` }],
      },
    });
    await this.renewOne(name);
  }

  private async renewOne(name: string): Promise<void> {
    await this.api.update(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
  }

  private async renew(): Promise<void> {
    for (const n of this.nodes) if (!this.dead.has(n)) await this.renewOne(n).catch(() => undefined);
  }

  private later(ms: number, fn: () => Promise<unknown>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn().catch((e) => log.warn({ err: e }, 'simulated kubelet request failed'));
    }, ms);
    this.timers.add(t);
  }

  private onPod(p: Obj): void {
    const node = p.spec?.nodeName;
    if (!node || this.dead.has(node)) return;
    const uid = p.metadata.uid!;
    const path = `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`;
    const b = this.behaviour(p);
    if (p.metadata.deletionTimestamp) {
      if (b.holdTerminating || this.finished.has(uid)) return;
      this.finished.add(uid);
      this.later(20, () => this.api.delete(path, { gracePeriodSeconds: 0 }));
      return;
    }
    if (this.started.has(uid)) return;
    this.started.add(uid);
    const ip = `10.244.${NODES.indexOf(node) + 1}.${this.ip++ % 250}`;
    this.later(b.readyAfterMs ?? 50, async () => {
      const t = iso();
      await this.api.patch(
        `${path}/status`,
        {
          status: {
            phase: 'Running',
            podIP: ip,
            podIPs: [{ ip }],
            hostIP: '10.0.0.1',
            startTime: t,
            conditions: [
              { type: 'Initialized', status: 'True', lastTransitionTime: t },
              { type: 'Ready', status: 'True', lastTransitionTime: t },
              { type: 'ContainersReady', status: 'True', lastTransitionTime: t },
              { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
            ],
            containerStatuses: (p.spec.containers ?? []).map((c: { name: string; image: string }) => ({
              name: c.name,
              image: c.image,
              imageID: '',
              ready: true,
              restartCount: 0,
              started: true,
              state: { running: { startedAt: t } },
            })),
          },
        },
        'merge',
      );
      if (b.exitAfterMs === undefined) return;
      this.later(b.exitAfterMs, async () => {
        const e = iso();
        await this.api.patch(
          `${path}/status`,
          {
            status: {
              phase: b.exitCode ? 'Failed' : 'Succeeded',
              conditions: [
                { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: e },
                { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
              ],
              containerStatuses: (p.spec.containers ?? []).map((c: { name: string; image: string }) => ({
                name: c.name,
                image: c.image,
                imageID: '',
                ready: false,
                restartCount: 0,
                state: { terminated: { exitCode: b.exitCode ?? 0, reason: b.exitCode ? 'Error' : 'Completed', startedAt: t, finishedAt: e } },
              })),
            },
          },
          'merge',
        );
      });
    });
  }
}

// ---- shared state ----
let cp: Awaited<ReturnType<typeof startControlPlane>> | undefined;
let api: LoopbackClient;
let kubelets: Kubelets;
let manager: Election | undefined;

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000) => waitUntil(what, fn, ms);
const kubectl = (args: string[], input?: string) => runKubectl(kubeconfig, dir, args, input, 90_000);

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function namespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
  await api.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  return ns;
}

// test reads are loosely typed: they look at whatever fields the check needs
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;
const list = async (path: string, labelSelector?: string): Promise<Loose[]> => (await api.list(path, labelSelector ? { labelSelector } : {})).items;
const podsOf = (ns: string, sel?: string) => list(`/api/v1/namespaces/${ns}/pods`, sel);
const ready = (p: Loose) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
const live = (p: Loose) => !p.metadata.deletionTimestamp;

function deployment(ns: string, name: string, replicas: number, image = 'registry.local/app:1', extra: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
      ...extra,
    },
  };
}

test.before(async () => {
  cp = await startControlPlane({
    dataDir: dir,
    bindAddress: '127.0.0.1',
    port: 0,
    advertiseAddress: '127.0.0.1',
    clusterCIDR: '10.244.0.0/16',
    nodeCIDRMaskSize: 24,
    serviceCIDR: '10.96.0.0/12',
    nodeMonitorGracePeriodSeconds: GRACE_S,
  });
  api = new LoopbackClient(remoteHandler(loadKubeconfig(kubeconfig)), { name: 'admin', groups: ['system:masters'] });
  kubelets = new Kubelets(api);
  await kubelets.start(NODES);
  manager = runControllerManager(api, logger('controller-manager-test'), { identity: `test-${process.pid}`, jobBackoffBaseMs: 200 });
  // either our copy leads, or the one wired into the control plane does
  await until('a controller manager to lead', async () => {
    const l = await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/hawser-controller-manager');
    return !!l.spec?.holderIdentity;
  });
});

test.after.always(async () => {
  kubelets?.stop();
  await manager?.stop();
  await cp?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('a Deployment of 3 scales to 10 and to 2', async (t) => {
  const ns = await namespace('scale');
  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'web', 3));
  const readyCount = async (n: number) => (await podsOf(ns, 'app=web')).filter((p) => live(p) && ready(p)).length === n;
  const settled = async (n: number) => {
    const d = await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    return d.status?.availableReplicas === n && d.status?.replicas === n && d.status?.updatedReplicas === n && (await readyCount(n));
  };
  await until('3 available', () => settled(3));
  await api.patch(`/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas: 10 } });
  await until('10 available', () => settled(10));
  await api.patch(`/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas: 2 } });
  await until('2 available', () => settled(2));
  const pods = (await podsOf(ns, 'app=web')).filter(live);
  t.is(pods.length, 2);
  const rss = await list(`/apis/apps/v1/namespaces/${ns}/replicasets`);
  t.is(rss.length, 1, 'scaling never makes a new ReplicaSet');
  t.is(rss[0].metadata.ownerReferences[0].kind, 'Deployment');
  t.is(rss[0].metadata.annotations['deployment.kubernetes.io/revision'], '1');
  t.regex(pods[0].metadata.name, new RegExp(`^${rss[0].metadata.name}-[a-z0-9]{5}$`));
  t.is(pods[0].metadata.labels['pod-template-hash'], rss[0].metadata.labels['pod-template-hash']);
  t.true(pods.every((p) => p.metadata.ownerReferences?.[0]?.controller === true && p.metadata.ownerReferences[0].uid === rss[0].metadata.uid));
  // settled objects are not rewritten (no status ping-pong between controllers)
  const versions = async () =>
    JSON.stringify([
      (await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).metadata.resourceVersion,
      ...(await list(`/apis/apps/v1/namespaces/${ns}/replicasets`)).map((x) => x.metadata.resourceVersion),
    ]);
  const before = await versions();
  await new Promise((r) => setTimeout(r, 1500));
  t.is(await versions(), before);
});

/** Watches a namespace's pods and calls fn with all of them after every change. */
async function watchPods(t: { teardown(fn: () => void): void }, ns: string, fn: (pods: Obj[]) => void): Promise<() => void> {
  let synced = false;
  const call = () => synced && fn([...inf.cache.values()]);
  const inf = new Informer(api, `/api/v1/namespaces/${ns}/pods`, { add: call, update: call, delete: call }, log);
  inf.start();
  await inf.synced;
  synced = true;
  call();
  t.teardown(() => inf.stop());
  return () => inf.stop();
}

const images = (pods: Loose[]) => [...new Set(pods.map((p) => p.spec.containers[0].image))].sort();

test.serial(
  'a rolling image update keeps replicas - maxUnavailable pods Ready; rollout undo, restart, pause/resume and history limit work with kubectl',
  async (t) => {
    const ns = await namespace('roll');
    kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 250 } : {});
    const strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } };
    await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'web', 4, 'registry.local/app:1', { strategy, revisionHistoryLimit: 2 }));
    const rollout = () => ok(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    t.regex(await rollout(), /successfully rolled out/);
    let minReady = Infinity;
    let maxLive = 0;
    const stop = await watchPods(t, ns, (pods) => {
      minReady = Math.min(minReady, pods.filter((p) => live(p) && ready(p)).length);
      maxLive = Math.max(maxLive, pods.filter(live).length);
    });
    await ok(['set', 'image', 'deployment/web', 'c=registry.local/app:2', '-n', ns]);
    t.regex(await rollout(), /successfully rolled out/);
    stop();
    t.true(minReady >= 3, `never fewer than 4 - 1 Ready pods (saw ${minReady})`);
    t.true(maxLive <= 5, `never more than 4 + 1 pods (saw ${maxLive})`);
    await until('old pods gone', async () => (await podsOf(ns)).length === 4);
    t.deepEqual(images(await podsOf(ns)), ['registry.local/app:2']);

    // undo: kubectl copies revision 1's template back; that ReplicaSet becomes revision 3
    await ok(['rollout', 'undo', 'deployment/web', '-n', ns]);
    t.regex(await rollout(), /successfully rolled out/);
    await until('undo settles', async () => (await podsOf(ns)).length === 4);
    t.deepEqual(images(await podsOf(ns)), ['registry.local/app:1']);
    const rss = await list(`/apis/apps/v1/namespaces/${ns}/replicasets`);
    const v1 = rss.find((rs) => rs.spec.template.spec.containers[0].image === 'registry.local/app:1')!;
    t.is(v1.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    t.is(v1.metadata.annotations['deployment.kubernetes.io/revision-history'], '1');
    t.regex(await ok(['rollout', 'history', 'deployment/web', '-n', ns]), /\n2\s+<none>\s*\n3\s+<none>/);

    // restart: a template annotation, hence a new ReplicaSet
    await ok(['rollout', 'restart', 'deployment/web', '-n', ns]);
    t.regex(await rollout(), /successfully rolled out/);
    const d = await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/web`);
    t.truthy(d.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
    t.is(d.status.observedGeneration, d.metadata.generation);
    t.is(d.status.conditions.find((c: { type: string }) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
    t.is(d.status.conditions.find((c: { type: string }) => c.type === 'Available').status, 'True');

    // pause: template changes wait; resume rolls them out
    await ok(['rollout', 'pause', 'deployment/web', '-n', ns]);
    await ok(['set', 'image', 'deployment/web', 'c=registry.local/app:3', '-n', ns]);
    await until('paused condition', async () =>
      (await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).status.conditions.some((c: { reason: string }) => c.reason === 'DeploymentPaused'),
    );
    await new Promise((r) => setTimeout(r, 500));
    t.false(
      (await list(`/apis/apps/v1/namespaces/${ns}/replicasets`)).some((rs) => rs.spec.template.spec.containers[0].image === 'registry.local/app:3'),
      'no rollout while paused',
    );
    await ok(['rollout', 'resume', 'deployment/web', '-n', ns]);
    t.regex(await rollout(), /successfully rolled out/);
    await until('app:3 everywhere', async () => JSON.stringify(images(await podsOf(ns))) === '["registry.local/app:3"]' && (await podsOf(ns)).length === 4);
    // revisionHistoryLimit 2: the new set and two old ones remain
    await until('history pruned to 2 old sets', async () => (await list(`/apis/apps/v1/namespaces/${ns}/replicasets`)).length === 3);
  },
);

test.serial('Recreate stops every old pod before starting new ones', async (t) => {
  const ns = await namespace('recreate');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 100 } : {});
  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'db', 3, 'registry.local/db:1', { strategy: { type: 'Recreate' } }));
  await ok(['rollout', 'status', 'deployment/db', '-n', ns, '--timeout=60s']);
  let mixed = false;
  const stop = await watchPods(t, ns, (pods) => {
    if (images(pods).length > 1) mixed = true;
  });
  await ok(['set', 'image', 'deployment/db', 'c=registry.local/db:2', '-n', ns]);
  t.regex(await ok(['rollout', 'status', 'deployment/db', '-n', ns, '--timeout=60s']), /successfully rolled out/);
  stop();
  t.false(mixed, 'old and new pods never coexist');
  await until('3 new pods', async () => {
    const pods = await podsOf(ns);
    return pods.length === 3 && images(pods)[0] === 'registry.local/db:2' && pods.every(ready);
  });
});

test.serial('a DaemonSet runs one pod per eligible node, follows new nodes and rolls a new template', async (t) => {
  const ns = await namespace('ds');
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: ns },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'registry.local/agent:1' }] } },
    },
  };
  await api.create(`/apis/apps/v1/namespaces/${ns}/daemonsets`, ds);
  const onNodes = async () =>
    (await podsOf(ns))
      .filter((p) => live(p) && ready(p))
      .map((p) => p.spec.nodeName)
      .sort();
  await until('one ready pod per node', async () => JSON.stringify(await onNodes()) === JSON.stringify(NODES));
  // a node with a taint the daemon does not tolerate gets nothing; an ordinary new node gets its pod
  await kubelets.addNode('n-tainted', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
  await kubelets.addNode('n4');
  await until('the new node gets a pod', async () => JSON.stringify(await onNodes()) === JSON.stringify([...NODES, 'n4']));
  const s = await until('status', async () => {
    const d = await api.get(`/apis/apps/v1/namespaces/${ns}/daemonsets/agent`);
    return d.status?.numberReady === 4 ? d.status : undefined;
  });
  t.like(s, { desiredNumberScheduled: 4, currentNumberScheduled: 4, numberMisscheduled: 0, updatedNumberScheduled: 4, numberAvailable: 4 });
  const pod = (await podsOf(ns))[0];
  t.deepEqual(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields, [
    { key: 'metadata.name', operator: 'In', values: [pod.spec.nodeName] },
  ]);
  t.true(pod.spec.tolerations.some((x: { key: string; effect: string }) => x.key === 'node.kubernetes.io/unreachable' && x.effect === 'NoExecute'));
  // a template change replaces the pods node by node
  await api.patch(
    `/apis/apps/v1/namespaces/${ns}/daemonsets/agent`,
    { spec: { template: { spec: { containers: [{ name: 'c', image: 'registry.local/agent:2' }] } } } },
    'strategic',
  );
  await until('all pods updated', async () => {
    const pods = (await podsOf(ns)).filter(live);
    return pods.length === 4 && pods.every((p) => ready(p) && p.spec.containers[0].image === 'registry.local/agent:2');
  });
  for (const n of ['n-tainted', 'n4']) {
    await api.delete(`/api/v1/nodes/${n}`);
    kubelets.nodes.delete(n);
  }
});

test.serial('a Job of 5 completions with parallelism 2 runs at most 2 pods at a time and completes', async (t) => {
  const ns = await namespace('job');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 50, exitAfterMs: 150, exitCode: 0 } : {});
  let maxActive = 0;
  await watchPods(t, ns, (pods) => {
    maxActive = Math.max(maxActive, pods.filter((p) => live(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length);
  });
  await api.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'work', namespace: ns },
    spec: {
      completions: 5,
      parallelism: 2,
      backoffLimit: 2,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.local/work:1' }] } },
    },
  });
  await ok(['wait', '--for=condition=complete', 'job/work', '-n', ns, '--timeout=60s']);
  const job = await api.get(`/apis/batch/v1/namespaces/${ns}/jobs/work`);
  t.is(job.status.succeeded, 5);
  t.is(job.status.failed, 0);
  t.is(job.status.active, 0);
  t.truthy(job.status.completionTime);
  t.true(maxActive <= 2 && maxActive >= 1, `at most parallelism pods ran at once (saw ${maxActive})`);
  const pods = await podsOf(ns);
  t.is(pods.filter((p) => p.status.phase === 'Succeeded').length, 5);
  t.true(
    pods.every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')),
    'tracking finalizers released',
  );
  t.true(pods.every((p) => p.metadata.labels['job-name'] === 'work' && p.metadata.labels['batch.kubernetes.io/controller-uid'] === job.metadata.uid));
});

test.serial('a Job whose pods fail stops at backoffLimit and is Failed', async (t) => {
  const ns = await namespace('jobfail');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 20, exitAfterMs: 20, exitCode: 1 } : {});
  await api.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'bad', namespace: ns },
    spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.local/work:1' }] } } },
  });
  await ok(['wait', '--for=condition=failed', 'job/bad', '-n', ns, '--timeout=60s']);
  const job = await api.get(`/apis/batch/v1/namespaces/${ns}/jobs/bad`);
  t.is(job.status.failed, 2, 'backoffLimit 1 allows 2 failed pods');
  t.is(job.status.conditions.find((c: { type: string }) => c.type === 'Failed').reason, 'BackoffLimitExceeded');
  t.is((await podsOf(ns)).length, 2);
});

test.serial('a Job deleted while its pod is pending leaves no pod behind: the job-tracking finalizer of an orphaned pod is removed', async (t) => {
  const ns = await namespace('jobgone');
  // the pod stays Pending (bound, never started) for the whole test
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 120_000 } : {});
  await api.create(`/apis/batch/v1/namespaces/${ns}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'gone', namespace: ns },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.local/work:1' }] } } },
  });
  const pod = await until('a bound pod holding the finalizer', async () =>
    (await podsOf(ns)).find((p) => p.spec.nodeName && (p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')),
  );
  t.is(pod.status.phase, 'Pending');
  await ok(['delete', 'job/gone', '-n', ns, '--wait=false']);
  // the garbage collector deletes the pod, the (simulated) kubelet finishes its deletion; only the
  // job controller can lift the finalizer, after the Job itself is gone
  const left = await until('the pod to be gone', async () => ((await podsOf(ns)).length === 0 ? 'gone' : undefined), 15_000).catch(async () =>
    JSON.stringify((await podsOf(ns)).map((p) => ({ name: p.metadata.name, deleting: !!p.metadata.deletionTimestamp, finalizers: p.metadata.finalizers }))),
  );
  t.is(left, 'gone');
});

test.serial('a StatefulSet creates <name>-0,1,2 in order, each after the previous is Ready, and scales down in reverse', async (t) => {
  const ns = await namespace('sts');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 200 } : {});
  const created: string[] = [];
  const readyAt = new Map<string, number>();
  const createdAt = new Map<string, number>();
  const deleted: string[] = [];
  await watchPods(t, ns, (pods) => {
    for (const p of pods) {
      const n = p.metadata.name!;
      if (!createdAt.has(n)) {
        createdAt.set(n, Date.now());
        created.push(n);
      }
      if (ready(p) && !readyAt.has(n)) readyAt.set(n, Date.now());
      if (p.metadata.deletionTimestamp && !deleted.includes(n)) deleted.push(n);
    }
  });
  await api.create(`/apis/apps/v1/namespaces/${ns}/statefulsets`, {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: ns },
    spec: {
      replicas: 3,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'registry.local/db:1' }] } },
    },
  });
  await until('3 ready', async () => (await podsOf(ns)).filter(ready).length === 3);
  t.deepEqual(created, ['db-0', 'db-1', 'db-2']);
  t.true(createdAt.get('db-1')! >= readyAt.get('db-0')!, 'db-1 waits for db-0 Ready');
  t.true(createdAt.get('db-2')! >= readyAt.get('db-1')!, 'db-2 waits for db-1 Ready');
  const p0 = (await podsOf(ns)).find((p) => p.metadata.name === 'db-0')!;
  t.is(p0.spec.hostname, 'db-0');
  t.is(p0.spec.subdomain, 'db');
  t.is(p0.metadata.labels['statefulset.kubernetes.io/pod-name'], 'db-0');
  const sts = await api.get(`/apis/apps/v1/namespaces/${ns}/statefulsets/db`);
  t.like(sts.status, { replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentReplicas: 3 });
  t.is(sts.status.currentRevision, sts.status.updateRevision);
  t.regex(
    await ok(['rollout', 'status', 'statefulset/db', '-n', ns, '--timeout=30s']),
    /roll out complete|rolling update complete|partitioned roll out complete/,
  );
  await api.patch(`/apis/apps/v1/namespaces/${ns}/statefulsets/db`, { spec: { replicas: 1 } });
  await until('1 left', async () => (await podsOf(ns)).length === 1);
  t.deepEqual(deleted, ['db-2', 'db-1']);
  t.is((await podsOf(ns))[0].metadata.name, 'db-0');
});

test.serial('deleting a Deployment removes its ReplicaSets and pods; foreground and orphan deletion follow their finalizers', async (t) => {
  const ns = await namespace('gc');
  const rsList = () => list(`/apis/apps/v1/namespaces/${ns}/replicasets`);
  // background (kubectl's default): the Deployment goes at once, the collector removes the rest
  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'bg', 3));
  await until('3 pods', async () => (await podsOf(ns, 'app=bg')).filter(ready).length === 3);
  await ok(['delete', 'deployment', 'bg', '-n', ns]);
  await until('ReplicaSets and pods of bg gone', async () => !(await rsList()).length && !(await podsOf(ns, 'app=bg')).length);

  // foreground: the owner waits, with its foregroundDeletion finalizer, until its dependents are gone
  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, {
    ...deployment(ns, 'fg', 2),
    metadata: { name: 'fg', namespace: ns, finalizers: ['foregroundDeletion'] },
  });
  await until('2 pods', async () => (await podsOf(ns, 'app=fg')).filter(ready).length === 2);
  let waited = false;
  let setsLeftWhenGone = -1;
  await api.delete(`/apis/apps/v1/namespaces/${ns}/deployments/fg`);
  await until('fg gone', async () => {
    try {
      const d = await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/fg`);
      if (d.metadata.deletionTimestamp && (await rsList()).length) waited = true;
      return false;
    } catch {
      setsLeftWhenGone = (await rsList()).length;
      return true;
    }
  });
  t.true(waited, 'the owner stayed, being deleted, while its ReplicaSet existed');
  t.is(setsLeftWhenGone, 0, 'the owner went only after its blocking dependents');
  await until('fg pods gone', async () => !(await podsOf(ns, 'app=fg')).length && !(await rsList()).length);

  // orphan: the dependents stay, without the reference to their deleted owner
  await api.create(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'or', namespace: ns, finalizers: ['orphan'] },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'or' } },
      template: { metadata: { labels: { app: 'or' } }, spec: { containers: [{ name: 'c', image: 'registry.local/app:1' }] } },
    },
  });
  await until('2 orphan-to-be pods', async () => (await podsOf(ns, 'app=or')).filter(ready).length === 2);
  await api.delete(`/apis/apps/v1/namespaces/${ns}/replicasets/or`);
  await until('rs gone', async () => !(await rsList()).length);
  await new Promise((r) => setTimeout(r, 300));
  const left = await podsOf(ns, 'app=or');
  t.is(left.filter(live).length, 2, 'orphaned pods stay');
  t.true(left.every((p) => !p.metadata.ownerReferences?.length));
});

test.serial('kubectl delete --cascade=foreground waits for the dependents; --cascade=orphan leaves them', async (t) => {
  const ns = await namespace('cascade');
  const rsList = () => list(`/apis/apps/v1/namespaces/${ns}/replicasets`);
  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'fg', 2));
  await until('2 pods', async () => (await podsOf(ns, 'app=fg')).filter(ready).length === 2);
  await ok(['delete', 'deployment', 'fg', '-n', ns, '--cascade=foreground', '--wait=false']);
  const d = await api.get(`/apis/apps/v1/namespaces/${ns}/deployments/fg`).catch(() => undefined);
  t.true(!d || (d.metadata.finalizers ?? []).includes('foregroundDeletion'), 'a foreground delete leaves the owner with the foregroundDeletion finalizer');
  await ok(['wait', '--for=delete', 'deployment/fg', '-n', ns, '--timeout=30s']);
  t.is((await rsList()).length, 0, 'the ReplicaSet went before its Deployment');

  await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, 'or', 2));
  await until('2 pods', async () => (await podsOf(ns, 'app=or')).filter(ready).length === 2);
  await ok(['delete', 'deployment', 'or', '-n', ns, '--cascade=orphan']);
  await until('deployment gone', async () => !(await list(`/apis/apps/v1/namespaces/${ns}/deployments`)).length);
  await new Promise((r) => setTimeout(r, 300));
  const rss = await rsList();
  t.is(rss.length, 1, 'the orphaned ReplicaSet stays');
  t.false(!!rss[0].metadata.ownerReferences?.length, 'without a reference to the deleted Deployment');
  t.is((await podsOf(ns, 'app=or')).filter(live).length, 2, 'and keeps its pods');
});

test.serial('Endpoints and EndpointSlices follow the pods a Service selects: named ports, ready/serving/terminating', async (t) => {
  const ns = await namespace('ep');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 20, holdTerminating: p.metadata.labels?.hold === 'yes' } : {});
  const pod = (name: string, port: number, labels: Record<string, string> = {}) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'web', ...labels } },
    spec: { containers: [{ name: 'c', image: 'registry.local/app:1', ports: [{ name: 'http', containerPort: port }] }] },
  });
  await api.create(`/api/v1/namespaces/${ns}/pods`, pod('a', 8080));
  await api.create(`/api/v1/namespaces/${ns}/pods`, pod('b', 9090, { hold: 'yes' }));
  await api.create(`/api/v1/namespaces/${ns}/services`, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns, labels: { tier: 'front' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
  });
  const podIP = async (n: string) => (await api.get(`/api/v1/namespaces/${ns}/pods/${n}`)).status?.podIP;
  const [ipA, ipB] = await until('pod IPs', async () => {
    const a = await podIP('a');
    const b = await podIP('b');
    return a && b ? [a, b] : undefined;
  });
  const ep = await until('endpoints with both', async () => {
    const e = await api.get(`/api/v1/namespaces/${ns}/endpoints/web`);
    return (e.subsets ?? []).flatMap((s: { addresses?: unknown[] }) => s.addresses ?? []).length === 2 ? e : undefined;
  });
  // named targetPort resolved per pod: two port lists, two subsets
  const ports = ep.subsets.map((s: { ports: { port: number }[] }) => s.ports[0].port).sort();
  t.deepEqual(ports, [8080, 9090]);
  t.is(ep.metadata.labels?.tier, 'front');
  const slicesNow = () => list(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, 'kubernetes.io/service-name=web');
  const slices = await until('slices', async () => {
    const s = await slicesNow();
    return s.flatMap((x) => x.endpoints ?? []).length === 2 ? s : undefined;
  });
  t.is(slices.length, 2, 'one slice per distinct port mapping');
  for (const s of slices) {
    t.is(s.addressType, 'IPv4');
    t.is(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    t.is(s.metadata.ownerReferences[0].kind, 'Service');
    t.like(s.endpoints[0], { conditions: { ready: true, serving: true, terminating: false } });
    t.truthy(s.endpoints[0].nodeName);
    t.is(s.endpoints[0].targetRef.kind, 'Pod');
  }
  // b starts terminating (its "kubelet" holds it): out of Endpoints, terminating in its slice
  await api.delete(`/api/v1/namespaces/${ns}/pods/b`);
  await until('b terminating in its slice', async () => {
    const eps = (await slicesNow()).flatMap((x) => x.endpoints ?? []);
    const b = eps.find((e) => e.addresses[0] === ipB);
    return b && b.conditions.terminating === true && b.conditions.ready === false && b.conditions.serving === true;
  });
  const ep2 = await until('endpoints without b', async () => {
    const e = await api.get(`/api/v1/namespaces/${ns}/endpoints/web`);
    const ips = (e.subsets ?? []).flatMap((s: { addresses?: { ip: string }[] }) => (s.addresses ?? []).map((a) => a.ip));
    return ips.length === 1 ? ips : undefined;
  });
  t.deepEqual(ep2, [ipA]);
  await api.delete(`/api/v1/namespaces/${ns}/pods/b`, { gracePeriodSeconds: 0 });
  await until('b gone from slices', async () => (await slicesNow()).flatMap((x) => x.endpoints ?? []).length === 1);
  await until('one slice left', async () => (await slicesNow()).length === 1);
  // the Service goes, its endpoints go
  await api.delete(`/api/v1/namespaces/${ns}/services/web`);
  await until('endpoints and slices removed', async () => !(await slicesNow()).length && !(await list(`/api/v1/namespaces/${ns}/endpoints`)).length);
});

test.serial('the default ServiceAccount comes back when deleted', async (t) => {
  const ns = await namespace('sa');
  await until('default SA', () => api.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`));
  const before = await api.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`);
  await api.delete(`/api/v1/namespaces/${ns}/serviceaccounts/default`);
  const after = await until('recreated', () => api.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`));
  t.not(after.metadata.uid, before.metadata.uid);
});

test.serial('a CronJob starts Jobs on its schedule and records them', async (t) => {
  const ns = await namespace('cron');
  kubelets.behaviour = (p) => (p.metadata.namespace === ns ? { readyAfterMs: 20, exitAfterMs: 50, exitCode: 0 } : {});
  await api.create(`/apis/batch/v1/namespaces/${ns}/cronjobs`, {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: ns },
    spec: {
      schedule: '@every 1s',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { from: 'cron' } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.local/work:1' }] } } },
      },
    },
  });
  const job = await until('a Job', async () => (await list(`/apis/batch/v1/namespaces/${ns}/jobs`))[0], 10_000);
  t.regex(job.metadata.name, /^tick-\d+$/);
  t.is(job.metadata.ownerReferences[0].kind, 'CronJob');
  t.is(job.metadata.labels.from, 'cron');
  t.truthy(job.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
  const cj = await until(
    'last success recorded',
    async () => {
      const c = await api.get(`/apis/batch/v1/namespaces/${ns}/cronjobs/tick`);
      return c.status?.lastSuccessfulTime && c.status?.lastScheduleTime ? c : undefined;
    },
    10_000,
  );
  t.truthy(cj.status.lastScheduleTime);
  await api.patch(`/apis/batch/v1/namespaces/${ns}/cronjobs/tick`, { spec: { suspend: true } });
});

test.serial(
  'a node that stops renewing its Lease turns NotReady after the grace period; its pods are evicted after their toleration and replaced elsewhere',
  async (t) => {
    const ns = await namespace('nodefail');
    kubelets.behaviour = () => ({});
    const tolerations = ['node.kubernetes.io/unreachable', 'node.kubernetes.io/not-ready'].map((key) => ({
      key,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: 2,
    }));
    const d = deployment(ns, 'svc', 3);
    d.spec.template.spec.tolerations = tolerations;
    await api.create(`/apis/apps/v1/namespaces/${ns}/deployments`, d);
    const pods = await until('3 ready', async () => {
      const ps = (await podsOf(ns)).filter((p) => live(p) && ready(p));
      return ps.length === 3 ? ps : undefined;
    });
    const victim = pods[0].spec.nodeName as string;
    const onVictim = pods.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name);
    const stoppedAt = Date.now();
    kubelets.dead.add(victim);
    const node = await until(
      'NotReady',
      async () => {
        const n = await api.get(`/api/v1/nodes/${victim}`);
        return n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status === 'Unknown' ? n : undefined;
      },
      (GRACE_S + 10) * 1000,
    );
    const notReadyAfter = Date.now() - stoppedAt;
    // the last renewal came up to one renewal interval (700 ms) before the stop
    t.true(notReadyAfter >= GRACE_S * 1000 - 1000, `not before the grace period (${notReadyAfter} ms)`);
    const taints = await until('taints', async () => {
      const n = await api.get(`/api/v1/nodes/${victim}`);
      return (n.spec.taints ?? []).length >= 2 ? n.spec.taints : undefined;
    });
    t.deepEqual(taints.map((x: { key: string; effect: string }) => `${x.key}:${x.effect}`).sort(), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    t.truthy(node);
    await until(
      'evicted',
      async () => {
        const now = await podsOf(ns);
        return onVictim.every((n) => now.find((p) => p.metadata.name === n)?.metadata.deletionTimestamp);
      },
      20_000,
    );
    await until('replaced on the other nodes', async () => {
      const ps = (await podsOf(ns)).filter((p) => live(p) && ready(p));
      return ps.length === 3 && ps.every((p) => p.spec.nodeName !== victim);
    });
    const evictedAfter = Date.now() - stoppedAt;
    t.true(evictedAfter >= (GRACE_S + 2) * 1000 - 1000, `eviction waited for the 2 s toleration (${evictedAfter} ms)`);
  },
);
