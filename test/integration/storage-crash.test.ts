// Crash safety of dynamic provisioning (issue 18): the real control plane (`node dist/hawser.cjs
// control-plane` over SQLite) is SIGKILLed while 20 WaitForFirstConsumer claims of a local-path
// class are being scheduled, provisioned and bound, and again while they are being deleted. After
// each restart on the same data dir: one PV per claim (named pvc-<claim uid>), no PV bound twice,
// no PV without its claim; on the node side the kubelet's own code (ClaimSource, VolumeManager)
// makes exactly one directory per volume, and after the claims go no directory is left.
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { logger } from '../../agents/api/log.ts';
import { issueKubeconfig } from '../../agents/control-plane/index.ts';
import { ClaimSource } from '../../agents/kubelet/volumes/claim-source.ts';
import { VolumeManager } from '../../agents/kubelet/volumes/volume-manager.ts';
import { readyNode, until } from './_apiserver-kit.ts';
import { type Client, controlPlaneArgs, freePort, killServer, requireBundle, type Server, startServer, waitReady } from './_control-plane-proc.ts';

const CLAIMS = 20;
const NODE = 'crash-n1';
const NS = '/api/v1/namespaces/default';

test.before(() => requireBundle('--datastore-endpoint'));

const items = async (c: Client, path: string): Promise<any[]> => {
  const r = await c.request('GET', path);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status}`);
  return r.body.items;
};

/** SIGKILLs the server once `ready` says so (polled every 20 ms), or after `ms` anyway. */
async function killWhen(srv: Server, ready: () => Promise<boolean>, ms: number): Promise<void> {
  await until('the kill point', async () => (await ready()) || undefined, ms, 20).catch(() => undefined);
  await killServer(srv);
}

test('kill -9 while 20 claims are provisioned and while they are deleted: one volume per claim, no orphan directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-pv-crash-'));
  const base = join(dir, 'storage');
  mkdirSync(base);
  const port = await freePort();
  const { args, dataDir, kubeconfig } = controlPlaneArgs(dir, port);
  let srv: Server | undefined;
  let c: Client | undefined;
  let claims: ClaimSource | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  t.teardown(async () => {
    clearInterval(heartbeat);
    claims?.stop();
    c?.close();
    await killServer(srv);
    rmSync(dir, { recursive: true, force: true });
  });
  const restart = async () => {
    c?.close();
    srv = startServer(args);
    c = await waitReady(kubeconfig, port, srv);
  };
  await restart();

  // the node: Ready (kept fresh, as its kubelet would), and the kubelet's claim source under its own identity
  t.is((await c!.request('POST', '/api/v1/nodes', readyNode(NODE, '10.0.0.31'))).status, 201);
  heartbeat = setInterval(() => {
    const conditions = readyNode(NODE, '10.0.0.31').status.conditions;
    void c?.request('PATCH', `/api/v1/nodes/${NODE}/status`, { status: { conditions } }, 'application/strategic-merge-patch+json').catch(() => undefined);
  }, 2000);
  const nodeConfig = join(dir, 'node.kubeconfig');
  await issueKubeconfig({ dataDir, server: `https://127.0.0.1:${port}`, user: `system:node:${NODE}`, groups: ['system:nodes'], outFile: nodeConfig });
  const nodeApi = new ApiClient(loadKubeconfig(nodeConfig));
  const log = logger('claims', 'error');
  claims = new ClaimSource(
    nodeApi,
    NODE,
    log,
    () => [],
    () => undefined,
  );
  const volumes = new VolumeManager({
    rootDir: join(dir, 'kubelet'),
    lookups: { configMap: () => undefined, secret: () => undefined },
    claims,
    allocatable: () => ({ cpuMillis: 4000, memoryBytes: 8 << 30, ephemeralStorageBytes: 8 << 30 }),
  });

  t.is(
    (
      await c!.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'crash-local' },
        provisioner: 'hawser.io/local-path',
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'WaitForFirstConsumer',
        parameters: { basePath: base },
      })
    ).status,
    201,
  );
  for (let i = 0; i < CLAIMS; i++) {
    const claim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `data-${i}` },
      spec: { storageClassName: 'crash-local', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '8Mi' } } },
    };
    t.is((await c!.request('POST', `${NS}/persistentvolumeclaims`, claim)).status, 201);
  }
  // the consumers go in at once; the kill falls at a random number of provisioned volumes
  const killAt = 1 + Math.floor(Math.random() * (CLAIMS - 1));
  await Promise.all(
    Array.from({ length: CLAIMS }, async (_, i) => {
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `user-${i}` },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: 'c', image: 'busybox' }],
          volumes: [{ name: 'd', persistentVolumeClaim: { claimName: `data-${i}` } }],
        },
      };
      t.is((await c!.request('POST', `${NS}/pods`, pod)).status, 201);
    }),
  );
  const first = srv!;
  await killWhen(first, async () => (await items(c!, '/api/v1/persistentvolumes')).length >= killAt, 60_000);
  t.is(first.proc.signalCode, 'SIGKILL');
  const atKill = readdirSync(base).length;
  await restart();

  const bound = await until(
    'every claim Bound and every pod scheduled',
    async () => {
      const cs = await items(c!, `${NS}/persistentvolumeclaims`);
      const ps = await items(c!, `${NS}/pods`);
      return cs.length === CLAIMS && cs.every((x) => x.status?.phase === 'Bound') && ps.every((p) => p.spec.nodeName === NODE) && cs;
    },
    90_000,
  );
  const pvs = await items(c!, '/api/v1/persistentvolumes');
  t.is(pvs.length, CLAIMS, 'one volume per claim');
  const byName = new Map(pvs.map((v) => [v.metadata.name, v]));
  const names = new Set<string>();
  for (const claim of bound) {
    const v = byName.get(claim.spec.volumeName);
    t.is(claim.spec.volumeName, `pvc-${claim.metadata.uid}`, 'the volume is named after the claim uid');
    t.is(v?.spec.claimRef?.uid, claim.metadata.uid, `${claim.metadata.name}: its volume points back at it`);
    t.is(v?.status?.phase, 'Bound');
    names.add(claim.spec.volumeName);
  }
  t.is(names.size, CLAIMS, 'no volume bound to two claims');

  // the node mounts each pod's claim as its kubelet does: one directory per volume, no other
  await claims.start();
  const pods = (await nodeApi.get<{ items: V1Pod[] }>('/api/v1/pods', { fieldSelector: `spec.nodeName=${NODE}` })).items;
  t.is(pods.length, CLAIMS);
  await until(
    'the node sees every claim bound',
    async () => pods.every((p) => claims!.claim('default', p.spec!.volumes![0].persistentVolumeClaim!.claimName)?.status?.phase === 'Bound'),
    30_000,
  );
  for (const p of pods) await volumes.setup(p, ['10.244.0.2'], ['10.0.0.31']);
  t.deepEqual(readdirSync(base).sort(), [...names].sort(), "exactly the volumes' directories");

  // delete everything and kill again half-way through the cleanup
  t.is((await c!.request('DELETE', `${NS}/pods?gracePeriodSeconds=0`)).status, 200);
  t.is((await c!.request('DELETE', `${NS}/persistentvolumeclaims`)).status, 200);
  const goneAt = 1 + Math.floor(Math.random() * (CLAIMS - 1));
  const second = srv!;
  await killWhen(second, async () => CLAIMS - (await items(c!, '/api/v1/persistentvolumes')).length >= goneAt, 60_000);
  await restart();
  await until(
    'no volume, claim or directory left',
    async () =>
      (await items(c!, '/api/v1/persistentvolumes')).length === 0 &&
      (await items(c!, `${NS}/persistentvolumeclaims`)).length === 0 &&
      readdirSync(base).length === 0,
    90_000,
  ).catch(async (e: Error) => {
    // say what is left: which volumes in which phase, which claims with which finalizers, which directories
    const pvs = (await items(c!, '/api/v1/persistentvolumes')).map(
      (v) => `${v.metadata.name}:${v.status?.phase}:${v.metadata.deletionTimestamp ? 'deleting' : ''}:${(v.metadata.finalizers ?? []).join('+')}`,
    );
    const pvcs = (await items(c!, `${NS}/persistentvolumeclaims`)).map(
      (x) => `${x.metadata.name}:${x.status?.phase}:${(x.metadata.finalizers ?? []).join('+')}`,
    );
    throw new Error(`${e.message}: volumes [${pvs.join(' ')}], claims [${pvcs.join(' ')}], directories [${readdirSync(base).join(' ')}]`);
  });
  t.deepEqual(readdirSync(base), []);
  t.log(`first kill after ${killAt} volumes (${atKill} directories then), second after ${goneAt} deletions`);
});
