// A disposable containerd for integration tests and experiments: its own temp dir (root, state,
// socket, config, log), optionally its own network namespace, and one teardown that removes all of
// it (sandboxes, shims, mounts, cgroups, netns, dirs) even when a test failed half-way.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CriClient } from '../../agents/kubelet/cri/client.ts';
import { renderContainerdConfig } from '../../agents/kubelet/cri/containerd-config.ts';
import { startContainerd } from '../../agents/kubelet/cri/containerd-process.ts';
import { detectSnapshotter } from '../../agents/kubelet/cri/snapshotter.ts';
import { logTail, stopPid } from '../../agents/kubelet/cri/daemon.ts';
import { teardownContainerd } from '../../agents/kubelet/cri/teardown.ts';

export interface Netns {
  name: string;
  path: string;
  remove(): void;
}

/** A fresh network namespace with lo up. */
export function createNetns(prefix = 'hawser-t'): Netns {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  const remove = () => {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  };
  try {
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    remove();
    throw e;
  }
  return { name, path: `/run/netns/${name}`, remove };
}

export interface ThrowawayContainerd {
  dir: string;
  root: string;
  state: string;
  socket: string;
  logFile: string;
  configPath: string;
  netns?: Netns;
  /** cgroup parent to give sandboxes, removed at teardown */
  cgroupParent: string;
  /** containerd's current pid (changes with start()) */
  readonly pid: number;
  /** a client on the socket (replaced by start()) */
  readonly client: CriClient;
  /** Stops containerd only: sandboxes and containers keep running under their shims. */
  stop(): Promise<void>;
  /** Starts containerd again on the same root, state and config. */
  start(): Promise<void>;
  /** Removes everything; returns problems that remained (empty when clean). Safe to call twice. */
  teardown(): Promise<string[]>;
  logTail(): string;
}

export async function startThrowawayContainerd(o: {
  sandboxImage: string;
  registryMirrors?: Record<string, string>;
  /** true: make a netns; a path: use that netns (not removed at teardown); false/absent: root netns */
  netns?: boolean | string;
  cniBinDir?: string;
  cniConfDir?: string;
}): Promise<ThrowawayContainerd> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-ctd-'));
  const tag = dir.slice(-6);
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const socket = join(dir, 'containerd.sock');
  const logFile = join(dir, 'containerd.log');
  const configPath = join(dir, 'config.toml');
  const cgroupParent = `/hawser-test-${tag}`;
  const netns = o.netns === true ? createNetns() : undefined;
  const netnsPath = typeof o.netns === 'string' ? o.netns : netns?.path;
  let pid: number | undefined;
  let client: CriClient | undefined;
  let done: Promise<string[]> | undefined;
  const start = async () => {
    const handle = await startContainerd({ netnsPath, configPath, logFile, socket });
    pid = handle.pid;
    client = new CriClient(socket);
  };
  const stop = async () => {
    client?.close();
    if (pid !== undefined) await stopPid(pid, 10_000);
  };
  const teardown = () =>
    (done ??= (async () => {
      client?.close();
      const problems = await teardownContainerd({ socket, root, state, pid, cgroupParents: [cgroupParent] });
      netns?.remove();
      if (problems.length === 0) rmSync(dir, { recursive: true, force: true });
      return problems;
    })());
  try {
    mkdirSync(root, { recursive: true });
    const cniConfDir = o.cniConfDir ?? join(dir, 'cni-conf');
    mkdirSync(cniConfDir, { recursive: true });
    writeFileSync(
      configPath,
      renderContainerdConfig({
        root,
        state,
        socket,
        cniBinDir: o.cniBinDir ?? join(dir, 'cni-bin'),
        cniConfDir,
        sandboxImage: o.sandboxImage,
        registryMirrors: o.registryMirrors ?? {},
        snapshotter: detectSnapshotter(root),
      }),
    );
    await start();
  } catch (e) {
    await teardown();
    throw e;
  }
  return {
    dir,
    root,
    state,
    socket,
    logFile,
    configPath,
    netns,
    cgroupParent,
    get pid() {
      return pid!;
    },
    get client() {
      return client!;
    },
    stop,
    start,
    teardown,
    logTail: () => logTail(logFile, 40),
  };
}
