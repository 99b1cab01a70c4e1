// [sig-storage] EmptyDir volumes, mirrored from upstream's test/e2e/common/storage/empty_dir.go: a file
// created with a mode by root or uid 1001 on the node's disk or tmpfs (medium Memory), the volume's
// own mode, and a volume shared by two containers ("(root,0666,tmpfs)" lives in node-config.test.ts).
import { EMPTYDIR_NON_ROOT_UID, containerOutput, podOf, mounttest, volumeSuite, type V } from './helpers/volume-e2e.ts';
import { eventually } from './helpers/node-e2e.ts';

const it = volumeSuite();
const VOLUME = '/test-volume';
const FILE = `${VOLUME}/test-file`;
type Medium = '' | 'Memory';

/** testPodWithVolume: one mounttest container, the emptyDir at /test-volume, uid unless root. */
const testPod = (v: V, uid: number, medium: Medium, m: Parameters<typeof mounttest>[0]) =>
  podOf('pod-emptydir', {
    securityContext: { seLinuxOptions: { level: 's0' }, runAsUser: uid || undefined },
    volumes: [{ name: 'test-volume', emptyDir: medium ? { medium } : {} }],
    containers: [{ name: 'test-container', image: v.lab.testapp, ...mounttest(m), volumeMounts: [{ name: 'test-volume', mountPath: VOLUME }] }],
  });

const tmpfs = (medium: Medium) => (medium === 'Memory' ? [`mount type of "${VOLUME}": tmpfs`] : []);

/** doTest0644 / doTest0666 / doTest0777 */
const fileMode = (v: V, uid: number, mode: number, medium: Medium) =>
  containerOutput(v, testPod(v, uid, medium, { fsType: VOLUME, newFile: [FILE, mode], perm: FILE }), 'test-container', [
    `perms of file "${FILE}": ${{ 0o644: '-rw-r--r--', 0o666: '-rw-rw-rw-', 0o777: '-rwxrwxrwx' }[mode]}`,
    `content of file "${FILE}": mount-tester new file`,
    ...tmpfs(medium),
  ]);

/** doTestVolumeMode */
const volumeMode = (v: V, medium: Medium) =>
  containerOutput(v, testPod(v, 0, medium, { fsType: VOLUME, perm: VOLUME }), 'test-container', [`perms of file "${VOLUME}": -rwxrwxrwx`, ...tmpfs(medium)]);

const N = EMPTYDIR_NON_ROOT_UID;
it('[sig-storage] EmptyDir volumes volume on tmpfs should have the correct mode [LinuxOnly] [NodeConformance] [Conformance]', (v) => volumeMode(v, 'Memory'));
it('[sig-storage] EmptyDir volumes should support (root,0644,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, 0, 0o644, 'Memory'));
it('[sig-storage] EmptyDir volumes should support (root,0777,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, 0, 0o777, 'Memory'));
it('[sig-storage] EmptyDir volumes should support (non-root,0644,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o644, 'Memory'));
it('[sig-storage] EmptyDir volumes should support (non-root,0666,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o666, 'Memory'));
it('[sig-storage] EmptyDir volumes should support (non-root,0777,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o777, 'Memory'));
it('[sig-storage] EmptyDir volumes volume on default medium should have the correct mode [LinuxOnly] [NodeConformance] [Conformance]', (v) =>
  volumeMode(v, ''));
it('[sig-storage] EmptyDir volumes should support (root,0644,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, 0, 0o644, ''));
it('[sig-storage] EmptyDir volumes should support (root,0666,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, 0, 0o666, ''));
it('[sig-storage] EmptyDir volumes should support (root,0777,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, 0, 0o777, ''));
it('[sig-storage] EmptyDir volumes should support (non-root,0644,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o644, ''));
it('[sig-storage] EmptyDir volumes should support (non-root,0666,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o666, ''));
it('[sig-storage] EmptyDir volumes should support (non-root,0777,default) [LinuxOnly] [NodeConformance] [Conformance]', (v) => fileMode(v, N, 0o777, ''));

it('[sig-storage] EmptyDir volumes pod should support shared volumes between containers [Conformance]', async (v) => {
  const message = 'Hello from the busy-box sub-container';
  await v.c.apply(
    podOf('pod-sharedvolume', {
      terminationGracePeriodSeconds: 0,
      volumes: [{ name: 'shared-data', emptyDir: {} }],
      containers: [
        {
          name: 'busybox-main-container',
          image: v.lab.testapp,
          command: ['/bin/sh'],
          args: ['-c', 'sleep 100000'],
          volumeMounts: [{ name: 'shared-data', mountPath: '/usr/share/volumeshare' }],
        },
        {
          name: 'busybox-sub-container',
          image: v.lab.testapp,
          command: ['/bin/sh'],
          args: ['-c', `echo ${message} > /pod-data/shareddata.txt`],
          volumeMounts: [{ name: 'shared-data', mountPath: '/pod-data' }],
        },
      ],
    }),
  );
  await v.c.waitPod('pod-sharedvolume', 'Running', (p) => p.status?.phase === 'Running', 60_000);
  // the sub container may still be writing when the pod turns Running: read once it has exited
  await eventually(
    'the sub container to finish',
    async () => (await v.c.pod('pod-sharedvolume')).status?.containerStatuses?.some((s: any) => s.name === 'busybox-sub-container' && s.state?.terminated),
    30_000,
  );
  const r = await v.c.exec('pod-sharedvolume', ['/bin/sh', '-c', 'cat /usr/share/volumeshare/shareddata.txt'], 'busybox-main-container');
  v.t.is(r.stdout.trim(), message);
});

// ---- upstream's NodeConformance tests of the same file outside the conformance list ----

const FS_GROUP = 123;
/** testPodWithVolume with pod.Spec.SecurityContext.FSGroup set, optionally with the mount's subPath. */
const fsGroupPod = (v: V, uid: number, medium: Medium, fsGroup: number, m: Parameters<typeof mounttest>[0], subPath?: string) => {
  const p = JSON.parse(testPod(v, uid, medium, m));
  p.spec.securityContext.fsGroup = fsGroup;
  if (subPath) p.spec.containers[0].volumeMounts[0].subPath = subPath;
  return JSON.stringify(p);
};

it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] new files should be created with FSGroup ownership when container is root', (v) =>
  containerOutput(v, fsGroupPod(v, 0, 'Memory', FS_GROUP, { fsType: VOLUME, newFile: [FILE, 0o660], perm: FILE, owner: FILE }), 'test-container', [
    `perms of file "${FILE}": -rw-rw----`,
    `content of file "${FILE}": mount-tester new file`,
    `owner GID of "${FILE}": ${FS_GROUP}`,
    ...tmpfs('Memory'),
  ]));
it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] new files should be created with FSGroup ownership when container is non-root', (v) =>
  containerOutput(v, fsGroupPod(v, N, 'Memory', FS_GROUP, { fsType: VOLUME, newFile: [FILE, 0o660], perm: FILE, owner: FILE }), 'test-container', [
    `perms of file "${FILE}": -rw-rw----`,
    `content of file "${FILE}": mount-tester new file`,
    `owner GID of "${FILE}": ${FS_GROUP}`,
    ...tmpfs('Memory'),
  ]));
it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] nonexistent volume subPath should have the correct mode and owner using FSGroup', (v) =>
  containerOutput(v, fsGroupPod(v, N, 'Memory', FS_GROUP, { fsType: VOLUME, perm: VOLUME, owner: VOLUME, mode: VOLUME }, 'test-sub'), 'test-container', [
    `perms of file "${VOLUME}": -rwxrwxrwx`,
    `owner UID of "${VOLUME}": 0`,
    `owner GID of "${VOLUME}": ${FS_GROUP}`,
    `mode of file "${VOLUME}": dgtrwxrwxrwx`,
    ...tmpfs('Memory'),
  ]));
it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] files with FSGroup ownership should support (root,0644,tmpfs)', (v) =>
  containerOutput(v, fsGroupPod(v, 0, 'Memory', FS_GROUP, { fsType: VOLUME, newFile: [FILE, 0o644], perm: FILE }), 'test-container', [
    `perms of file "${FILE}": -rw-r--r--`,
    `content of file "${FILE}": mount-tester new file`,
    ...tmpfs('Memory'),
  ]));
it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] volume on default medium should have the correct mode using FSGroup', (v) =>
  containerOutput(v, fsGroupPod(v, 0, '', 1001, { fsType: VOLUME, perm: VOLUME }), 'test-container', [`perms of file "${VOLUME}": -rwxrwxrwx`]));
it('[sig-storage] EmptyDir volumes when FSGroup is specified [LinuxOnly] [NodeConformance] volume on tmpfs should have the correct mode using FSGroup', (v) =>
  containerOutput(v, fsGroupPod(v, 0, 'Memory', 1001, { fsType: VOLUME, perm: VOLUME }), 'test-container', [
    `perms of file "${VOLUME}": -rwxrwxrwx`,
    ...tmpfs('Memory'),
  ]));

it('[sig-storage] EmptyDir volumes pod should support memory backed volumes of specified size [NodeConformance]', async (v) => {
  await v.c.apply(
    podOf('pod-size-memory-volume', {
      terminationGracePeriodSeconds: 0,
      volumes: [{ name: 'shared-data', emptyDir: { medium: 'Memory', sizeLimit: '10Mi' } }],
      containers: [
        {
          name: 'busybox-main-container',
          image: v.lab.testapp,
          command: ['/bin/sh'],
          args: ['-c', 'sleep 100000'],
          volumeMounts: [{ name: 'shared-data', mountPath: '/usr/share/volumeshare' }],
        },
      ],
    }),
  );
  await v.c.waitRunning('pod-size-memory-volume', 60_000);
  const r = await v.c.exec('pod-size-memory-volume', ['/bin/sh', '-c', "df | grep /usr/share/volumeshare | awk '{print $2}'"], 'busybox-main-container');
  v.t.is(r.stdout.trim(), '10240');
});
