// The volume manager on a real filesystem (root: tmpfs mounts): emptyDir on disk and in memory,
// configMap and secret volumes written atomically and updated in place, subPath kept inside its
// volume even through symlinks, hostPath type checks, and a teardown that leaves nothing mounted.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { writePayload } from '../../agents/kubelet/volumes/atomic-writer.ts';
import { VolumeError } from '../../agents/kubelet/volumes/payload.ts';
import { isMountPoint, mountsUnder, VolumeManager } from '../../agents/kubelet/volumes/volume-manager.ts';

const b = (s: string) => ({ data: Buffer.from(s), mode: 0o644 });

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-vol-'));
  t.teardown(() => {
    for (const m of mountsUnder(dir)) {
      try {
        execFileSync('umount', ['-l', m]);
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

test('atomic writer: ..data swaps to a new generation; removed keys go; unchanged payloads are not rewritten', (t) => {
  const dir = join(scratch(t), 'v');
  t.true(
    writePayload(
      dir,
      new Map([
        ['a', b('1')],
        ['sub/b', b('2')],
      ]),
    ),
  );
  const gen1 = readlinkSync(join(dir, '..data'));
  t.regex(gen1, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{9}$/);
  t.is(readlinkSync(join(dir, 'a')), '..data/a');
  t.is(readlinkSync(join(dir, 'sub')), '..data/sub');
  t.is(readFileSync(join(dir, 'sub/b'), 'utf8'), '2');
  t.false(
    writePayload(
      dir,
      new Map([
        ['a', b('1')],
        ['sub/b', b('2')],
      ]),
    ),
    'same payload: nothing written',
  );
  t.true(writePayload(dir, new Map([['a', b('one')]])));
  const gen2 = readlinkSync(join(dir, '..data'));
  t.not(gen2, gen1);
  t.false(existsSync(join(dir, gen1)), 'the old generation is removed');
  t.false(existsSync(join(dir, 'sub')), 'a key no longer in the payload disappears');
  t.is(readFileSync(join(dir, 'a'), 'utf8'), 'one');
  t.true(writePayload(dir, new Map([['a', { data: Buffer.from('one'), mode: 0o400 }]])), 'a mode change is a change');
  t.is(statSync(join(dir, 'a')).mode & 0o777, 0o400);
  t.true(writePayload(dir, new Map([['a', { data: Buffer.from('one'), mode: 0o400 }]]), 2000), 'fsGroup ownership');
  t.is(statSync(join(dir, 'a')).gid, 2000);
  t.is(statSync(join(dir, 'a')).mode & 0o777, 0o440, 'group read for fsGroup');
});

const cm: V1ConfigMap = { metadata: { name: 'cfg', namespace: 'ns' }, data: { key: 'v1' } };
const sec: V1Secret = { metadata: { name: 'sec', namespace: 'ns' }, data: { pw: Buffer.from('hunter2').toString('base64') } };

function manager(root: string) {
  const objects = { cm: cm as V1ConfigMap | undefined, sec };
  const vm = new VolumeManager({
    rootDir: root,
    lookups: {
      configMap: (ns, n) => (ns === 'ns' && n === 'cfg' ? objects.cm : undefined),
      secret: (ns, n) => (ns === 'ns' && n === 'sec' ? objects.sec : undefined),
    },
    allocatable: () => ({ cpuMillis: 1000, memoryBytes: 1 << 30, ephemeralStorageBytes: 1 << 30 }),
  });
  return { vm, objects };
}

const pod = (uid: string, volumes: V1Volume[]): V1Pod => ({
  metadata: { name: 'p', namespace: 'ns', uid },
  spec: { containers: [{ name: 'c', image: 'i' }], volumes },
});

test('setup: emptyDir on disk and tmpfs, configMap on disk, secret on tmpfs; updates follow; teardown unmounts all', async (t) => {
  const root = scratch(t);
  const { vm, objects } = manager(root);
  const p = pod('u1', [
    { name: 'scratch', emptyDir: {} },
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    { name: 'cfg', configMap: { name: 'cfg' } },
    { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
    { name: 'info', downwardAPI: { items: [{ path: 'name', fieldRef: { fieldPath: 'metadata.name' } }] } },
  ]);
  const vols = await vm.setup(p, [], []);
  const dir = (n: string) => vols.get(n)!.hostPath;
  const mounts = mountsUnder(join(root, 'pods', 'u1'));
  t.true(mounts.includes(dir('mem')));
  t.true(mounts.includes(dir('sec')));
  t.false(mounts.includes(dir('scratch')));
  t.false(mounts.includes(dir('cfg')));
  t.is(statSync(dir('scratch')).mode & 0o777, 0o777);
  t.is(readFileSync(join(dir('cfg'), 'key'), 'utf8'), 'v1');
  t.is(readFileSync(join(dir('sec'), 'pw'), 'utf8'), 'hunter2');
  t.is(statSync(join(dir('sec'), 'pw')).mode & 0o777, 0o400);
  t.is(readFileSync(join(dir('info'), 'name'), 'utf8'), 'p');
  t.deepEqual(
    [...vols.values()].map((v) => [v.name, v.readOnly]),
    [
      ['scratch', false],
      ['mem', false],
      ['cfg', true],
      ['sec', true],
      ['info', true],
    ],
  );
  objects.cm = { ...cm, data: { key: 'v2', added: 'x' } };
  await vm.setup(p, [], []);
  t.deepEqual(mountsUnder(join(root, 'pods', 'u1')), mounts, 'a second sync mounts nothing again (one tmpfs per volume)');
  t.true(isMountPoint(dir('mem')));
  t.false(isMountPoint(dir('scratch')));
  t.is(readFileSync(join(dir('cfg'), 'key'), 'utf8'), 'v2');
  t.is(readFileSync(join(dir('cfg'), 'added'), 'utf8'), 'x');
  objects.cm = undefined;
  await t.throwsAsync(vm.setup(p, [], []), { instanceOf: VolumeError, message: 'MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found' });
  await vm.teardown('u1');
  t.deepEqual(mountsUnder(join(root, 'pods', 'u1')), []);
  t.false(existsSync(join(root, 'pods', 'u1')));
});

test('subPath: created in writable volumes, resolved to real paths, and never outside the volume', async (t) => {
  const root = scratch(t);
  const outside = scratch(t);
  const { vm } = manager(root);
  const p = pod('u2', [
    { name: 'scratch', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'cfg' } },
  ]);
  const vols = await vm.setup(p, [], []);
  const c = (mounts: object[]) => ({ name: 'c', volumeMounts: mounts as never });
  const [m1, m2] = vm.mountsFor(
    c([
      { name: 'scratch', mountPath: '/data', subPath: 'a/b' },
      { name: 'cfg', mountPath: '/etc/key', subPath: 'key', readOnly: false },
    ]),
    vols,
    new Map(),
  );
  t.is(m1.hostPath, join(vols.get('scratch')!.hostPath, 'a/b'));
  t.true(lstatSync(m1.hostPath).isDirectory());
  t.regex(m2.hostPath, /\/\.\.\d{4}_[^/]+\/key$/, 'a configMap key resolves into its current generation');
  t.true(m2.readonly, 'API data stays read-only');
  const [m3] = vm.mountsFor(c([{ name: 'scratch', mountPath: '/x', subPathExpr: '$(POD_NAME)' }]), vols, new Map([['POD_NAME', 'p']]));
  t.true(m3.hostPath.endsWith('/p'));
  // a symlink planted in the volume must not lead a subPath out of it
  symlinkSync(outside, join(vols.get('scratch')!.hostPath, 'escape'));
  t.throws(() => vm.mountsFor(c([{ name: 'scratch', mountPath: '/y', subPath: 'escape' }]), vols, new Map()), { message: /not within volume path/ });
  // ... nor make a directory out there on its way to being refused
  t.throws(() => vm.mountsFor(c([{ name: 'scratch', mountPath: '/y', subPath: 'escape/made-outside/deeper' }]), vols, new Map()), {
    message: /not within volume path/,
  });
  t.false(existsSync(join(outside, 'made-outside')), 'nothing created outside the volume');
  t.throws(() => vm.mountsFor(c([{ name: 'scratch', mountPath: '/y', subPath: '../../etc' }]), vols, new Map()), { instanceOf: VolumeError });
  t.throws(() => vm.mountsFor(c([{ name: 'cfg', mountPath: '/y', subPath: 'missing' }]), vols, new Map()), { message: /does not exist/ });
  await vm.teardown('u2');
});

test("emptyDir modes as upstream: tmpfs keeps its sticky 1777, fsGroup adds setgid, a new subPath takes the volume's mode", async (t) => {
  const root = scratch(t);
  const { vm } = manager(root);
  const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);
  const plain = await vm.setup(
    pod('u5', [
      { name: 'mem', emptyDir: { medium: 'Memory' } },
      { name: 'disk', emptyDir: {} },
    ]),
    [],
    [],
  );
  t.is(mode(plain.get('mem')!.hostPath), '1777');
  t.is(mode(plain.get('disk')!.hostPath), '777');
  const p = pod('u6', [
    { name: 'mem', emptyDir: { medium: 'Memory' } },
    { name: 'disk', emptyDir: {} },
  ]);
  p.spec!.securityContext = { fsGroup: 123 };
  const grouped = await vm.setup(p, [], []);
  t.is(mode(grouped.get('mem')!.hostPath), '3777');
  t.is(mode(grouped.get('disk')!.hostPath), '2777');
  // upstream's "nonexistent volume subPath should have the correct mode and owner using FSGroup": dgtrwxrwxrwx, 0:123
  const [m] = vm.mountsFor({ name: 'c', volumeMounts: [{ name: 'mem', mountPath: '/v', subPath: 'test-sub/deeper' }] }, grouped, new Map());
  for (const d of [join(grouped.get('mem')!.hostPath, 'test-sub'), m.hostPath]) {
    t.is(mode(d), '3777', d);
    t.is(statSync(d).uid, 0);
    t.is(statSync(d).gid, 123);
  }
  await vm.teardown('u5');
  await vm.teardown('u6');
});

test('hostPath types: DirectoryOrCreate and FileOrCreate create, the others check', async (t) => {
  const root = scratch(t);
  const host = scratch(t);
  mkdirSync(join(host, 'dir'));
  const { vm } = manager(root);
  await vm.setup(
    pod('u3', [
      { name: 'a', hostPath: { path: join(host, 'made'), type: 'DirectoryOrCreate' } },
      { name: 'b', hostPath: { path: join(host, 'file'), type: 'FileOrCreate' } },
      { name: 'c', hostPath: { path: join(host, 'dir'), type: 'Directory' } },
      { name: 'd', hostPath: { path: join(host, 'whatever') } },
    ]),
    [],
    [],
  );
  t.true(statSync(join(host, 'made')).isDirectory());
  t.true(statSync(join(host, 'file')).isFile());
  await t.throwsAsync(vm.setup(pod('u4', [{ name: 'x', hostPath: { path: join(host, 'file'), type: 'Directory' } }]), [], []), {
    message: `MountVolume.SetUp failed for volume "x" : hostPath type check failed: ${join(host, 'file')} is not a directory`,
  });
  await t.throwsAsync(vm.setup(pod('u5', [{ name: 'x', hostPath: { path: '/dev/null', type: 'BlockDevice' } }]), [], []), { message: /is not a block device/ });
  // a missing path of type Directory is refused, and nothing is made in its place
  await t.throwsAsync(vm.setup(pod('u6', [{ name: 'x', hostPath: { path: join(host, 'missing'), type: 'Directory' } }]), [], []), {
    message: `MountVolume.SetUp failed for volume "x" : hostPath type check failed: ${join(host, 'missing')} is not a directory`,
  });
  t.false(existsSync(join(host, 'missing')));
  await vm.teardown('u3');
  t.true(existsSync(join(host, 'made')), 'a hostPath is never removed');
});
