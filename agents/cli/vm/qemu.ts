// One throwaway QEMU VM of the cached image: a qcow2 overlay (the image stays clean), software
// emulation (no /dev/kvm here), direct kernel boot with cgroup v2 only, user-mode networking with
// restrict=on (no way out) and ssh forwarded from a free loopback port, read-only raw disks for
// what the host hands in (/dev/vdb, ...: no scp and unpacking in the emulated guest), a serial
// log, and a monitor socket to quit it. A boot is awaited on the serial console's login prompt, then
// over ssh. Commands go over one multiplexed ssh connection. stop()
// ends that connection, quits through the monitor, then kills by the pidfile, then removes the
// overlay, so nothing is left also when a test fails.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { VmImage } from './image.ts';

export interface Vm {
  dir: string;
  sshPort: number;
  pidFile: string;
  serialLog: string;
  monitor: string;
  image: VmImage;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on loopback (the kernel picks it; closed before QEMU takes it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** QEMU's arguments for a VM. Pure. */
export function qemuArgs(vm: Omit<Vm, 'image'> & { image: Pick<VmImage, 'kernel' | 'initrd'> }, overlay: string, o: VmOptions = {}): string[] {
  return [
    '-name',
    'hawser-vm-test',
    '-machine',
    'q35',
    '-accel',
    'tcg,thread=multi,tb-size=512',
    '-cpu',
    'max',
    '-smp',
    String(o.cpus ?? 2),
    '-m',
    String(o.memoryMiB ?? 2048),
    '-kernel',
    vm.image.kernel,
    '-initrd',
    vm.image.initrd,
    '-append',
    'root=/dev/vda rw console=ttyS0 systemd.unified_cgroup_hierarchy=1 quiet',
    '-drive',
    `file=${overlay},format=qcow2,if=virtio,cache=unsafe`,
    ...(o.readOnlyDisks ?? []).flatMap((d) => ['-drive', `file=${d},format=raw,if=virtio,readonly=on`]),
    '-netdev',
    `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${vm.sshPort}-:22`,
    '-device',
    'virtio-net-pci,netdev=n0',
    '-display',
    'none',
    '-vga',
    'none',
    '-serial',
    `file:${vm.serialLog}`,
    '-monitor',
    `unix:${vm.monitor},server,nowait`,
    '-pidfile',
    vm.pidFile,
    '-daemonize',
  ];
}

export interface VmOptions {
  cpus?: number;
  memoryMiB?: number;
  /** raw disk images attached read-only after the root disk: /dev/vdb, /dev/vdc, ... */
  readOnlyDisks?: string[];
}

export async function startVm(image: VmImage, dir: string, o: VmOptions = {}): Promise<Vm> {
  await stopVmIn(dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const vm: Vm = {
    dir,
    sshPort: await freePort(),
    pidFile: join(dir, 'qemu.pid'),
    serialLog: join(dir, 'serial.log'),
    monitor: join(dir, 'monitor.sock'),
    image,
  };
  const overlay = join(dir, 'overlay.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', image.disk, overlay]);
  execFileSync('qemu-system-x86_64', qemuArgs(vm, overlay, o), { stdio: ['ignore', 'pipe', 'pipe'] });
  return vm;
}

const pidOf = (vm: Vm): number | undefined => {
  try {
    const p = Number(readFileSync(vm.pidFile, 'utf8').trim());
    return p > 0 ? p : undefined;
  } catch {
    return undefined;
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The VM's ssh control socket: one connection that later commands share. */
const controlPath = (vm: Pick<Vm, 'dir'>) => join(vm.dir, 'ssh.sock');

/**
 * Runs a shell command in the VM as root over ssh; rejects on a non-zero exit. Commands share one
 * multiplexed connection (ControlMaster, kept 60 s idle): a new connection costs about 1 s of key
 * exchange in the emulated guest, a shared one about 0.1 s (measured in the VM test's guest). A
 * reboot ends the shared connection; the next command opens a new one.
 */
export async function ssh(vm: Vm, script: string, timeoutMs = 120_000): Promise<string> {
  const r = await promisify(execFile)(
    'ssh',
    [
      '-i',
      vm.image.sshKey,
      '-p',
      String(vm.sshPort),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'ConnectTimeout=10',
      '-o',
      'BatchMode=yes',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${controlPath(vm)}`,
      '-o',
      'ControlPersist=60',
      '-o',
      'ServerAliveInterval=5',
      '-o',
      'ServerAliveCountMax=3',
      'root@127.0.0.1',
      script,
    ],
    { timeout: timeoutMs, maxBuffer: 32 << 20 },
  );
  return r.stdout;
}

/** Ends the shared ssh connection, if there is one (its master process would otherwise linger up to ControlPersist). */
function closeSsh(vm: Pick<Vm, 'dir'>): void {
  if (!existsSync(controlPath(vm))) return;
  try {
    execFileSync('ssh', ['-o', `ControlPath=${controlPath(vm)}`, '-O', 'exit', 'hawser-vm'], { stdio: 'ignore', timeout: 5000 });
  } catch {
    /* its master is gone already */
  }
  rmSync(controlPath(vm), { force: true });
}

/** Copies a host file into the VM. */
export async function scp(vm: Vm, from: string, to: string): Promise<void> {
  await promisify(execFile)(
    'scp',
    [
      '-q',
      '-i',
      vm.image.sshKey,
      '-P',
      String(vm.sshPort),
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=ERROR',
      '-o',
      'BatchMode=yes',
      from,
      `root@127.0.0.1:${to}`,
    ],
    { timeout: 300_000 },
  );
}

/**
 * Whether the serial console shows a login prompt of the current boot (after the last reboot).
 * Pure. getty comes up with sshd; before that an ssh attempt is worse than useless: QEMU's user
 * networking accepts the connection at once, then its SYN to the guest goes unanswered until the
 * guest's network is up, and the attempt hangs in the banner exchange for its whole ConnectTimeout
 * (measured: boots seen by ssh 7-10 s after the guest had sshd listening).
 */
export function consoleAtLogin(serial: string): boolean {
  const login = serial.lastIndexOf(' login: ');
  return login >= 0 && login > serial.lastIndexOf('reboot: ');
}

function readSerial(vm: Vm): string {
  try {
    return readFileSync(vm.serialLog, 'latin1');
  } catch {
    return '';
  }
}

/** Waits for sshd and systemd to be up (running or degraded): first for the console's login prompt (at most 90 s: a guest without a serial getty is still found by ssh), then over ssh. */
export async function waitBooted(vm: Vm, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const consoleDeadline = Math.min(deadline, Date.now() + 90_000);
  while (Date.now() < consoleDeadline && !consoleAtLogin(readSerial(vm))) {
    const pid = pidOf(vm);
    if (pid && !alive(pid)) throw new Error(`QEMU exited; serial log ${vm.serialLog}`);
    await sleep(250);
  }
  let last = '';
  while (Date.now() < deadline) {
    const pid = pidOf(vm);
    if (pid && !alive(pid)) throw new Error(`QEMU exited; serial log ${vm.serialLog}`);
    try {
      const s = (await ssh(vm, 'systemctl is-system-running --wait || true', 60_000)).trim();
      if (s === 'running' || s === 'degraded') return;
      last = s;
    } catch (err) {
      last = String(err).slice(0, 200);
    }
    await sleep(1000);
  }
  throw new Error(`the VM did not boot within ${timeoutMs / 1000} s (${last}); serial log ${vm.serialLog}`);
}

/** Quits QEMU through its monitor, kills it by its pidfile if it lingers, and removes the overlay. */
export async function stopVm(vm: Vm, keepLogs = true): Promise<void> {
  closeSsh(vm);
  const pid = pidOf(vm);
  if (existsSync(vm.monitor)) {
    await new Promise<void>((res) => {
      const c = createConnection(vm.monitor, () => c.end('quit\n'));
      c.on('error', () => res());
      c.on('close', () => res());
      setTimeout(() => {
        c.destroy();
        res();
      }, 3000);
    });
  }
  for (let i = 0; pid && alive(pid) && i < 50; i++) await sleep(100);
  if (pid && alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // a stale pidfile could name someone else's process later
  rmSync(vm.pidFile, { force: true });
  rmSync(join(vm.dir, 'overlay.qcow2'), { force: true });
  if (!keepLogs) rmSync(vm.dir, { recursive: true, force: true });
}

/** Stops whatever VM a state directory holds (by its pidfile and monitor), for cleanup after a crash. */
export async function stopVmIn(dir: string): Promise<void> {
  const vm: Vm = {
    dir,
    sshPort: 0,
    pidFile: join(dir, 'qemu.pid'),
    serialLog: join(dir, 'serial.log'),
    monitor: join(dir, 'monitor.sock'),
    image: { dir: '', kernel: '', initrd: '', disk: '', sshKey: '', built: false },
  };
  if (existsSync(vm.pidFile) || existsSync(join(dir, 'overlay.qcow2'))) await stopVm(vm);
}
