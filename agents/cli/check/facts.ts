// The host facts `hawser check-config` judges (rules.ts), read from /proc and /sys without
// spawning anything but `iptables --version`, so the check runs in well under a second and works
// on a host with no PATH tools installed yet.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { HostFacts, Listener, Route } from './rules.ts';

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

const RTF_GATEWAY = 0x2;

/** /proc/net/route: hex little-endian destination and mask per interface (default route left out). */
export function parseProcRoutes(text: string): Route[] {
  const ip = (hex: string) => [0, 1, 2, 3].map((i) => parseInt(hex.slice(6 - 2 * i, 8 - 2 * i), 16)).join('.');
  const prefix = (hex: string) =>
    [...ip(hex).split('.')].reduce(
      (n, o) =>
        n +
        Number(o)
          .toString(2)
          .split('')
          .filter((b) => b === '1').length,
      0,
    );
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 8 && f[1] !== '00000000')
    .map((f) => ({ dst: `${ip(f[1])}/${prefix(f[7])}`, dev: f[0], ...(parseInt(f[3], 16) & RTF_GATEWAY ? { via: true } : {}) }));
}

/** Listening TCP ports and their socket inodes, from /proc/net/tcp{,6} (state 0A is LISTEN). */
export function parseProcTcpListeners(text: string): { port: number; inode: string }[] {
  return text
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 10 && f[3] === '0A')
    .map((f) => ({ port: parseInt(f[1].split(':')[1], 16), inode: f[9] }));
}

function listeners(ports: number[]): Listener[] {
  const all = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((p) => parseProcTcpListeners(read(p) ?? ''));
  const wanted = all.filter((l) => ports.includes(l.port));
  if (!wanted.length) return [];
  const owner = new Map<string, { process: string; hawser: boolean }>();
  const inodes = new Set(wanted.map((w) => `socket:[${w.inode}]`));
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) {
        const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
        owner.set(target, { process: `${(read(`/proc/${pid}/comm`) ?? '').trim()} (pid ${pid})`, hawser: argv.some((a) => /hawser/.test(a)) });
      }
    }
    if (owner.size === inodes.size) break;
  }
  return wanted.map((w) => ({ port: w.port, ...owner.get(`socket:[${w.inode}]`) }));
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A module is usable when loaded, built in, or present to be loaded. */
function moduleAvailable(name: string): boolean {
  if (existsSync(`/sys/module/${name}`)) return true;
  const dir = `/lib/modules/${os.release()}`;
  const listed = (f: string) => (read(join(dir, f)) ?? '').split('\n').some((l) => new RegExp(`/${name}\\.ko(\\.[a-z]+)?:?(\\s|$)`).test(l));
  return listed('modules.builtin') || listed('modules.dep');
}

function cgroupFacts(): HostFacts['cgroup'] {
  const v2 = read('/sys/fs/cgroup/cgroup.controllers');
  if (v2 !== undefined) return { version: 2, controllers: v2.trim().split(/\s+/).filter(Boolean) };
  const rows = (read('/proc/cgroups') ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/));
  return { version: 1, controllers: rows.filter((r) => r[3] === '1').map((r) => r[0]) };
}

function isSocket(p: string): boolean {
  try {
    return statSync(p).isSocket();
  } catch {
    return false;
  }
}

export function gatherFacts(o: { commands: string[]; ports: number[]; criSocket: string }): HostFacts {
  let iptablesVersion = '';
  try {
    iptablesVersion = execFileSync('iptables', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    /* missing */
  }
  return {
    kernel: `${os.type()} ${os.release()}`,
    filesystems: (read('/proc/filesystems') ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter(Boolean),
    ipForward: read('/proc/sys/net/ipv4/ip_forward')?.trim(),
    brNetfilter: existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables'),
    modules: ['vxlan', 'overlay', 'br_netfilter', 'ip_vs'].filter(moduleAvailable),
    cgroup: cgroupFacts(),
    swapDevices: Math.max(0, (read('/proc/swaps') ?? '').trim().split('\n').length - 1),
    iptablesVersion,
    commands: o.commands.filter(onPath),
    systemdRunning: existsSync('/run/systemd/system'),
    criSocket: isSocket(o.criSocket),
    routes: parseProcRoutes(read('/proc/net/route') ?? ''),
    listeners: listeners(o.ports),
  };
}
