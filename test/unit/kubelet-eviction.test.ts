// The kubelet's emptyDir sizeLimit eviction: upstream's rule (which pod, which message, critical pods
// spared), the bounded du-like walk that measures a volume, and one housekeeping pass over a pod
// directory on disk handing the over-limit pod (and only it) to evict.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { logger } from '../../agents/api/log.ts';
import { emptyDirLimitEviction, emptyDirMessage, isCriticalPod, limitedEmptyDirs, type Eviction } from '../../agents/kubelet/eviction/emptydir-limit.ts';
import { EvictionManager } from '../../agents/kubelet/eviction/eviction-manager.ts';
import { treeUsage } from '../../agents/kubelet/stats/disk-usage.ts';
import { volumeDir } from '../../agents/kubelet/volumes/paths.ts';

const MiB = 1024 * 1024;
const pod = (uid: string, volumes: NonNullable<V1Pod['spec']>['volumes'], extra: Partial<V1Pod> = {}): V1Pod => ({
  metadata: { name: uid, namespace: 'default', uid },
  spec: { containers: [{ name: 'c', image: 'busybox' }], volumes },
  status: { phase: 'Running' },
  ...extra,
});

test('upstream message: the limit as Quantity.String() prints it, with the trailing space', (t) => {
  t.is(emptyDirMessage('cache', '1Mi'), 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ');
  t.is(emptyDirMessage('cache', '1048576'), 'Usage of EmptyDir volume "cache" exceeds the limit "1048576". ');
  t.is(emptyDirMessage('cache', '1000000'), 'Usage of EmptyDir volume "cache" exceeds the limit "1M". ');
  t.is(emptyDirMessage('cache', '2048Ki'), 'Usage of EmptyDir volume "cache" exceeds the limit "2Mi". ');
});

test('a pod is evicted only when an emptyDir uses more than its positive sizeLimit', (t) => {
  const p = pod('a', [
    { name: 'plain', emptyDir: {} },
    { name: 'zero', emptyDir: { sizeLimit: '0' } },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    { name: 'disk', emptyDir: { sizeLimit: '1Mi' } },
    { name: 'cm', configMap: { name: 'x' } },
  ]);
  t.deepEqual(
    limitedEmptyDirs(p).map((v) => v.name),
    ['mem', 'disk'],
  );
  t.is(
    emptyDirLimitEviction(
      p,
      new Map([
        ['plain', 100 * MiB],
        ['zero', MiB],
        ['disk', MiB],
        ['mem', MiB],
      ]),
    ),
    undefined,
    'equal to the limit is not over it',
  );
  t.is(emptyDirLimitEviction(p, new Map()), undefined, 'no usage measured');
  t.deepEqual(emptyDirLimitEviction(p, new Map([['disk', 4 * MiB]])), { volume: 'disk', message: 'Usage of EmptyDir volume "disk" exceeds the limit "1Mi". ' });
  t.deepEqual(
    emptyDirLimitEviction(
      p,
      new Map([
        ['mem', MiB + 4096],
        ['disk', 4 * MiB],
      ]),
    )?.volume,
    'mem',
    'memory-backed too, first in spec order',
  );
});

test('critical pods (static, mirror, system-critical priority) are not evicted, as upstream', (t) => {
  const vols = [{ name: 'disk', emptyDir: { sizeLimit: '1Mi' } }];
  const over = new Map([['disk', 4 * MiB]]);
  const statik = pod('s', vols, { metadata: { name: 's', uid: 's', annotations: { 'kubernetes.io/config.source': 'file' } } });
  const mirror = pod('m', vols, { metadata: { name: 'm', uid: 'm', annotations: { 'kubernetes.io/config.mirror': 'h' } } });
  const critical = pod('c', vols);
  critical.spec!.priority = 2_000_000_000;
  for (const p of [statik, mirror, critical]) {
    t.true(isCriticalPod(p));
    t.is(emptyDirLimitEviction(p, over), undefined);
  }
  const high = pod('h', vols);
  high.spec!.priority = 1_999_999_999;
  t.truthy(emptyDirLimitEviction(high, over));
});

test('the walk counts allocated bytes of real files, does not follow symlinks, and stops at its cap', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'evict-walk-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const vol = join(root, 'vol');
  mkdirSync(join(vol, 'sub'), { recursive: true });
  writeFileSync(join(vol, 'a'), Buffer.alloc(256 * 1024, 1));
  writeFileSync(join(vol, 'sub', 'b'), Buffer.alloc(256 * 1024, 1));
  writeFileSync(join(root, 'outside'), Buffer.alloc(4 * MiB, 1));
  symlinkSync(join(root, 'outside'), join(vol, 'link'));
  symlinkSync(root, join(vol, 'loop'));
  const u = treeUsage(vol);
  t.true(u.bytes >= 512 * 1024 && u.bytes < MiB, `${u.bytes} bytes: the 4 MiB behind the symlinks are not counted`);
  t.is(u.inodes, 6);
  t.is(treeUsage(vol, 2).inodes, 2);
  t.deepEqual(treeUsage(join(root, 'missing')), { bytes: 0, inodes: 0 });
});

test('a housekeeping pass measures the pods on disk and evicts the one over its limit, once', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'evict-pass-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const vols = [{ name: 'cache', emptyDir: { sizeLimit: '1Mi' } }];
  const big = pod('big', vols);
  const small = pod('small', vols);
  const done = pod('done', vols, { status: { phase: 'Failed' } });
  for (const [p, size] of [
    [big, 4 * MiB],
    [small, 512 * 1024],
    [done, 4 * MiB],
  ] as const) {
    const dir = volumeDir(root, p.metadata!.uid!, 'empty-dir', 'cache');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'f'), Buffer.alloc(size, 1));
  }
  const evicting = new Set<string>();
  const calls: [string, Eviction][] = [];
  const m = new EvictionManager({
    rootDir: root,
    pods: () => [big, small, done],
    log: logger('test'),
    evicting: (uid) => evicting.has(uid),
    evict: async (p, e) => {
      calls.push([p.metadata!.uid!, e]);
      evicting.add(p.metadata!.uid!);
    },
  });
  t.deepEqual(
    (await m.synchronize()).map((p) => p.metadata!.uid),
    ['big'],
  );
  t.deepEqual(calls, [['big', { volume: 'cache', message: 'Usage of EmptyDir volume "cache" exceeds the limit "1Mi". ' }]]);
  t.deepEqual(await m.synchronize(), [], 'a pod being evicted is not evicted again');
});
