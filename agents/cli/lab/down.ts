// `hawser lab down`: removes everything `up` made. Pods first, through CRI, so that our CNI plugins
// release their addresses and netns the way a real node would; then the processes, leftover
// container shims and mounts, the network, and the state directory.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { removeAllPods } from '../../kubelet/cri/remove-all.ts';
import { nodeProcId, pidFileOf, registryPaths } from './components.ts';
import { destroyNetwork } from './network.ts';
import { pidOf, stopProc } from './procs.ts';
import { topology, type Lab, type LabOptions } from './topology.ts';

export function savedOptions(stateRoot: string, name: string): LabOptions | undefined {
  const f = `${stateRoot}/${name}/lab.json`;
  if (!existsSync(f)) return undefined;
  return { ...(JSON.parse(readFileSync(f, 'utf8')) as Omit<LabOptions, 'stateRoot'>), stateRoot };
}

/** Shims outlive containerd by design; the lab's are found by the containerd address they serve. */
function killShims(lab: Lab): void {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes('containerd-shim') && lab.nodes.some((n) => cmd.includes(n.socket))) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
  }
}

/** runc removes a container's cgroup but not the pod-level parents the kubelet named. */
function removeCgroups(lab: Lab): void {
  const root = '/sys/fs/cgroup';
  const rmTree = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmTree(`${dir}/${e.name}`);
    try {
      rmdirSync(dir);
    } catch {
      /* still busy: a process lives in it */
    }
  };
  for (const ctl of existsSync(root) ? readdirSync(root) : []) {
    for (const n of lab.nodes) rmTree(`${root}/${ctl}/hawser/${n.name}`);
    try {
      rmdirSync(`${root}/${ctl}/hawser`);
    } catch {
      /* another lab still uses it, or never made */
    }
  }
}

const timed = async <T>(what: string, fn: () => Promise<T> | T): Promise<T> => {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    if (process.env.HAWSER_LAB_TRACE) process.stderr.write(`${what}: ${Date.now() - t0} ms\n`);
  }
};

export async function labDown(o: LabOptions): Promise<void> {
  const lab = topology(savedOptions(o.stateRoot, o.name) ?? o);
  for (const n of lab.nodes) {
    for (const c of ['kubelet', 'podnet', 'kube-proxy'] as const) await timed(`stop ${n.name} ${c}`, () => stopProc(pidFileOf(lab, nodeProcId(n, c))));
    const containerd = pidFileOf(lab, nodeProcId(n, 'containerd'));
    if (pidOf(containerd)) await timed(`remove pods on ${n.name}`, () => removeAllPods(n.socket).catch(() => undefined));
    await timed(`stop ${n.name} containerd`, () => stopProc(containerd, 10_000));
    // a process inside a namespace keeps it alive: the daemon goes before the namespace
    await timed(`stop ${n.name} cni-daemon`, () => stopProc(pidFileOf(lab, nodeProcId(n, 'cni-daemon'))));
  }
  killShims(lab);
  removeCgroups(lab);
  await stopProc(pidFileOf(lab, 'control-plane'));
  await stopProc(registryPaths(lab).pidFile);
  destroyNetwork(lab);
  if (existsSync(lab.dir)) {
    unmountUnder(lab.dir);
    rmSync(lab.dir, { recursive: true, force: true });
  }
}
