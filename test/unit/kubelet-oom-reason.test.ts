// An OOM-killed container reported as OOMKilled when containerd says only Error, exit code 137 (its
// 1.6 releases miss the OOM event under the systemd cgroup driver on cgroup v2): PodCgroups reads
// the pod cgroup's oom_kill counter from a fake cgroup tree per driver and hierarchy, and
// PodReporter gives each new kill to one exited container, never a kill twice, never to a container
// that exited 137 without one (a SIGKILL after the grace period).
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logger } from '../../agents/api/log.ts';
import type { PodDeps } from '../../agents/kubelet/pods/deps.ts';
import { PodCgroups } from '../../agents/kubelet/pods/pod-cgroups.ts';
import { PodReporter } from '../../agents/kubelet/pods/pod-report.ts';
import type { ContainerDetail, ContainerInfo } from '../../agents/kubelet/pods/runtime.ts';

const UID = '3f2a1b4c-5d6e-7f80-9a0b-1c2d3e4f5a6b';
const log = logger('test', 'silent');

function tree(t: import('ava').ExecutionContext, files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hawser-oom-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('the pod cgroup oom_kill counter is read where each driver and hierarchy put the pod', (t) => {
  const events = 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n';
  const systemdV2 = tree(t, {
    'cgroup.controllers': 'cpu memory pids\n',
    [`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/memory.events`]: events,
  });
  t.is(new PodCgroups({ cgroupRoot: '/kubepods', driver: 'systemd' }, log, systemdV2).oomKills(UID), 2);
  const cgroupfsV2 = tree(t, { 'cgroup.controllers': 'cpu memory pids\n', [`kubepods/besteffort/pod${UID}/memory.events`]: events });
  t.is(new PodCgroups({ cgroupRoot: '/kubepods', driver: 'cgroupfs' }, log, cgroupfsV2).oomKills(UID), 2);
  const cgroupfsV1 = tree(t, { [`memory/kubepods/pod${UID}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n' });
  t.is(new PodCgroups({ cgroupRoot: '/kubepods', driver: 'cgroupfs' }, log, cgroupfsV1).oomKills(UID), 1);
  t.is(new PodCgroups({ cgroupRoot: '/kubepods', driver: 'cgroupfs' }, log, cgroupfsV1).oomKills('another-uid'), undefined);
});

/** A reporter over a runtime whose containers exit as given and a pod cgroup whose counter the test moves. */
function reporter(details: Record<string, Partial<ContainerDetail>>) {
  const counter = { kills: 0 as number | undefined };
  const deps = {
    rt: {
      containerDetail: async (id: string): Promise<ContainerDetail> => ({
        id,
        state: 'CONTAINER_EXITED',
        attempt: 0,
        image: 'busybox',
        imageRef: 'sha256:1',
        startedAtMs: 1,
        finishedAtMs: 2,
        logPath: '',
        mounts: [],
        annotations: {},
        ...details[id],
      }),
    },
    cgroups: { oomKills: () => counter.kills },
    writeStatus: async () => true,
    log,
  } as unknown as PodDeps;
  const r = new PodReporter(deps);
  const info = (id: string): ContainerInfo => ({
    id,
    sandboxId: 's',
    uid: UID,
    name: 'c',
    attempt: 0,
    state: 'CONTAINER_EXITED',
    createdAt: 1,
    hash: '',
    imageRef: '',
  });
  return { counter, reason: async (id: string) => (await r.detail(info(id)))?.reason, r };
}

test('exit 137 with a new kill in the pod cgroup is OOMKilled; without one it stays Error', async (t) => {
  const { counter, reason } = reporter({
    a: { exitCode: 137, reason: 'Error' },
    b: { exitCode: 137, reason: 'Error' },
    c: { exitCode: 137, reason: 'Error' },
    d: { exitCode: 1, reason: 'Error' },
  });
  counter.kills = 1;
  t.is(await reason('a'), 'OOMKilled');
  t.is(await reason('a'), 'OOMKilled', 'read once, then cached');
  t.is(await reason('b'), 'Error', 'the one kill was given to a already');
  counter.kills = 3; // one kill can count several processes of one container
  t.is(await reason('c'), 'OOMKilled');
  counter.kills = 4;
  t.is(await reason('d'), 'Error', 'exit code 1 is not a kill');
});

test("a kill containerd already reported is not given again to a later SIGKILL'd container", async (t) => {
  const { counter, reason, r } = reporter({ a: { exitCode: 137, reason: 'OOMKilled' }, b: { exitCode: 137, reason: 'Error' } });
  counter.kills = 1;
  t.is(await reason('a'), 'OOMKilled');
  t.is(await reason('b'), 'Error');
  r.forget(UID, ['a', 'b']);
  counter.kills = undefined; // the pod cgroup is gone: nothing to say
  t.is(await reason('b'), 'Error');
});
