// One machine: an overlay root on the cached rootfs, booted by systemd-nspawn with systemd as PID 1.
// What nspawn needs on this kind of host (each seen failing without it, docs ENVIRONMENT): no host
// systemd (--register=no --keep-unit, a tmpfs on /run/systemd/nspawn), the launcher in a cgroup of
// its own in every hierarchy (or two machines collide at the roots), all capabilities, the keyring
// syscalls runc uses, /dev/kmsg, and a real directory for containerd (overlayfs cannot sit on an
// overlay root). Commands run inside through nsenter into the machine's PID 1's namespaces.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine, MachineLab } from './topology.ts';
import { readPidFile, writePidFile } from '../lab/pid-file.ts';

const NSPAWN_RUN = '/run/systemd/nspawn';
const CGROUP_ROOT = '/sys/fs/cgroup';

const mounted = (p: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === p);
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export const pidFile = (m: Machine) => join(m.dir, 'nspawn.pid');
export const logFile = (m: Machine) => join(m.dir, 'console.log');
const containerdDir = (m: Machine) => join(m.dir, 'containerd');

/** Files that make this machine itself: host name, address on the lab bridge. */
function identity(lab: MachineLab, m: Machine): Record<string, string> {
  return {
    'etc/hostname': `${m.name}\n`,
    'etc/hosts': `127.0.0.1 localhost\n${m.ip} ${m.name}\n`,
    'etc/systemd/network/10-hawser-lab.network': `[Match]\nName=host0\n\n[Network]\nAddress=${m.ip}/${lab.prefixLen}\nGateway=${lab.gateway}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
  };
}

/** Mounts the machine's overlay root (idempotent) and writes its identity into the upper layer. */
export function prepareRoot(lab: MachineLab, m: Machine, lowerDir: string): void {
  for (const d of ['upper', 'work', 'root', 'containerd']) mkdirSync(join(m.dir, d), { recursive: true });
  if (!mounted(m.root)) {
    sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerDir},upperdir=${join(m.dir, 'upper')},workdir=${join(m.dir, 'work')}`, m.root]);
  }
  for (const [p, text] of Object.entries(identity(lab, m))) {
    mkdirSync(join(m.root, p, '..'), { recursive: true });
    writeFileSync(join(m.root, p), text);
  }
}

export function nspawnArgs(lab: MachineLab, m: Machine, binds: string[] = []): string[] {
  return [
    '-D',
    m.root,
    '--boot',
    `--machine=${m.name}`,
    '--register=no',
    '--keep-unit',
    '--capability=all',
    '--system-call-filter=@keyring',
    '--bind=/dev/kmsg',
    `--bind=${containerdDir(m)}:/var/lib/containerd`,
    `--network-bridge=${lab.bridge}`,
    '--resolv-conf=off',
    '--timezone=off',
    '--console=passive',
    '--kill-signal=SIGRTMIN+3',
    ...binds.map((b) => `--bind-ro=${b}`),
  ];
}

/** The cgroup hierarchies of this host (v1 controllers, the named systemd one, the unified one). */
export const hierarchies = (): string[] =>
  readdirSync(CGROUP_ROOT)
    .map((d) => join(CGROUP_ROOT, d))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));

export function machineCgroups(lab: MachineLab, m: Machine): string[] {
  return hierarchies().map((h) => join(h, lab.cgroupParent, m.name));
}

/** mkdir -p of a cgroup; in v1 cpuset each new level must be given its parent's cpus and mems first. */
function makeCgroup(dir: string): void {
  const parent = join(dir, '..');
  if (!hierarchies().includes(parent)) makeCgroup(parent);
  if (!existsSync(dir)) mkdirSync(dir);
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if (existsSync(join(dir, f)) && !readFileSync(join(dir, f), 'utf8').trim()) writeFileSync(join(dir, f), readFileSync(join(parent, f), 'utf8'));
  }
}

/** Starts nspawn detached; its launcher first moves into the machine's cgroup in every hierarchy. */
export function boot(lab: MachineLab, m: Machine, binds: string[] = []): number {
  if (!mounted(NSPAWN_RUN)) {
    mkdirSync(NSPAWN_RUN, { recursive: true });
    sh('mount', ['-t', 'tmpfs', '-o', 'mode=0755', 'hawser-nspawn', NSPAWN_RUN]);
  }
  const cgroups = machineCgroups(lab, m);
  for (const c of cgroups) makeCgroup(c);
  // `systemctl reboot` inside makes nspawn exit 133: boot the machine again, as a host's firmware
  // would; SIGTERM (lab down) powers it off and ends the loop
  const script = `for c in ${cgroups.map((c) => `'${c}'`).join(' ')}; do echo $$ > "$c/cgroup.procs" || exit 1; done
    stop=0; pid=
    trap 'stop=1; [ -n "$pid" ] && kill -TERM "$pid"' TERM
    while :; do
      systemd-nspawn "$@" & pid=$!
      wait "$pid"; rc=$?
      while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
      if [ "$stop" = 1 ] || [ "$rc" != 133 ]; then exit "$rc"; fi
    done`;
  const out = openSync(logFile(m), 'a');
  const child = spawn('sh', ['-c', script, 'nspawn', ...nspawnArgs(lab, m, binds)], { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  if (!child.pid) throw new Error(`could not start systemd-nspawn for ${m.name}`);
  writePidFile(pidFile(m), child.pid);
  return child.pid;
}

export function nspawnPid(m: Machine): number | undefined {
  try {
    return readPidFile(pidFile(m));
  } catch {
    return undefined;
  }
}

const childNamed = (pid: number, comm: string): number | undefined => {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.find((k) => {
      try {
        return readFileSync(`/proc/${k}/comm`, 'utf8').trim() === comm;
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
};

/** The machine's PID 1 as the host sees it: the systemd child of the launcher's current nspawn. */
export function leaderPid(m: Machine): number | undefined {
  const launcher = nspawnPid(m);
  const nspawn = launcher && childNamed(launcher, 'systemd-nspawn');
  return nspawn ? childNamed(nspawn, 'systemd') : undefined;
}

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command inside the machine (all its namespaces, its root), as `machinectl shell` would,
 * ended after timeoutMs. The bound is kept inside the machine: coreutils `timeout` there signals
 * the command's whole process group (SIGTERM, SIGKILL 5 s later), since killing nsenter alone ends
 * nothing in the machine, and the command (or a `systemctl` it waits on) keeps our pipes open, so
 * the call used to return only when the command ended by itself (minutes, or never). On the host,
 * a machine too stuck to run even that is given up on 15 s after the bound.
 */
export function machineExec(m: Machine, argv: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  const leader = leaderPid(m);
  if (!leader) return Promise.reject(new Error(`${m.name} is not running`));
  const timeoutMs = o.timeoutMs ?? 120_000;
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const child = spawn(
    'nsenter',
    [
      '-t',
      String(leader),
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      '-C',
      '--',
      'env',
      '-i',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOME=/root',
      'LANG=C.UTF-8',
      'timeout',
      '--kill-after=5',
      `${seconds}`,
      ...argv,
    ],
    { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] },
  );
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (stdout.length < 32 << 20) stdout += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (stderr.length < 1 << 20) stderr += d;
  });
  // a command that exits before reading its input closes the pipe: that is its answer, not a crash
  child.stdin?.on('error', () => {});
  child.stdin?.end(o.input);
  return new Promise((resolve, reject) => {
    const timedOut = () => `${m.name}: \`${argv.join(' ')}\` did not finish within ${seconds} s\n`;
    const stuck = setTimeout(() => {
      child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ status: 124, stdout, stderr: `${stderr}${timedOut()}` });
    }, timeoutMs + 15_000);
    child.on('error', (e) => {
      clearTimeout(stuck);
      reject(new Error(`${m.name}: ${argv.join(' ')}: ${e.message}`));
    });
    child.on('close', (code, sig) => {
      clearTimeout(stuck);
      // timeout(1) exits 124 when it sent SIGTERM, 137 when it had to SIGKILL
      const late = (code === 124 || code === 137) && Date.now() - started >= seconds * 1000;
      resolve({ status: code ?? (sig ? 128 : 1), stdout, stderr: `${stderr}${sig ? `killed by ${sig}\n` : ''}${late ? timedOut() : ''}` });
    });
  });
}

/** machineExec that throws on a non-zero exit, with the command's output in the message. */
export async function machineRun(m: Machine, argv: string[], o: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await machineExec(m, argv, o);
  if (r.status !== 0) throw new Error(`${m.name}: \`${argv.join(' ')}\` exited ${r.status}:\n${r.stderr}${r.stdout}`.trimEnd());
  return r.stdout;
}

/** Every pid in the machine's cgroups (all hierarchies, nested ones included). */
export function cgroupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    try {
      for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
    } catch {
      /* gone */
    }
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  dirs.forEach(walk);
  return [...pids];
}

/** Removes a cgroup tree bottom-up; returns the dirs still there (a process lives in them). */
export function removeCgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const left: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) left.push(...removeCgroupTree(join(dir, e.name)));
  try {
    rmdirSync(dir);
  } catch {
    left.push(dir);
  }
  return left;
}

export const nspawnRunDir = NSPAWN_RUN;
export const isMounted = mounted;
