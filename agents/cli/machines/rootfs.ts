// The machines' root filesystem: Debian bookworm from debootstrap --variant=minbase with what a
// bare host running hawser has (systemd, dbus, containerd, runc, iptables, iproute2, conntrack, ipset),
// plus what booting under systemd-nspawn on this kernel takes (a unit that makes the read-only
// cgroup v1 controllers writable, a modules.builtin so modprobe finds built-in modules, networkd
// for the bridge address). Built once (about 90 s to minutes, network bound), packed with zstd and
// unpacked once into the cache; machines boot from overlays on that read-only lower dir.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

export const ROOTFS_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'containerd',
  'runc',
  'iptables',
  'iproute2',
  'conntrack',
  'ipset',
  'ca-certificates',
  'kmod',
  'procps',
  'iputils-ping',
  'netbase',
];
const MIRROR = 'http://deb.debian.org/debian';

const CGROUP_RW_UNIT = `# hawser machine lab: systemd-nspawn mounts the cgroup v1 controllers read-only; containerd and
# runc must create pod cgroups in them.
[Unit]
Description=Make the cgroup v1 controllers writable
DefaultDependencies=no
Before=sysinit.target containerd.service
ConditionVirtualization=container

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw "$d"; done'

[Install]
WantedBy=sysinit.target
`;

const POD_REAPER_UNIT = `# hawser machine lab: a real host's reboot resets the kernel, which ends every pod; a container's
# does not, and systemd-shutdown does not kill the pods' processes (they live in the kubelet's
# cgroups, outside systemd's), so the machine would hang in shutdown. This kills them once the
# kubelet and containerd have stopped (stop order is the reverse of Before=containerd.service).
[Unit]
Description=Kill what is left of the pods at shutdown
Before=containerd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do p=$(find /sys/fs/cgroup/pids/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null); [ -z "$p" ] && exit 0; kill -9 $p; sleep 0.5; done'

[Install]
WantedBy=multi-user.target
`;

/** Built-in modules named so that modprobe (and hawser install's modprobe) succeeds on them. */
const BUILTIN_MODULES = [
  'br_netfilter',
  'bridge',
  'overlay',
  'vxlan',
  'ip_tables',
  'iptable_filter',
  'iptable_nat',
  'iptable_mangle',
  'ip6_tables',
  'nf_conntrack',
  'nf_nat',
  'nf_tables',
  'xt_conntrack',
  'xt_comment',
  'xt_mark',
  'veth',
  'tun',
];

/** What the cached rootfs depends on: a change here makes a new cache entry. */
export function rootfsKey(): string {
  const h = createHash('sha256')
    .update(JSON.stringify([ROOTFS_PACKAGES, CGROUP_RW_UNIT, POD_REAPER_UNIT, BUILTIN_MODULES, release()]))
    .digest('hex');
  return `bookworm-${h.slice(0, 12)}`;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

function customize(dir: string): void {
  writeFileSync(join(dir, 'etc/systemd/system/hawser-cgroup-rw.service'), CGROUP_RW_UNIT);
  writeFileSync(join(dir, 'etc/systemd/system/hawser-lab-pod-reaper.service'), POD_REAPER_UNIT);
  run('systemctl', [`--root=${dir}`, 'enable', 'hawser-cgroup-rw.service', 'hawser-lab-pod-reaper.service', 'systemd-networkd.service']);
  const mods = join(dir, 'lib/modules', release());
  mkdirSync(mods, { recursive: true });
  writeFileSync(join(mods, 'modules.builtin'), BUILTIN_MODULES.map((m) => `kernel/hawser/${m}.ko\n`).join(''));
  writeFileSync(join(mods, 'modules.order'), '');
  run('chroot', [dir, 'depmod', release()]);
  // each machine gets its own identity at first boot
  writeFileSync(join(dir, 'etc/machine-id'), '');
  rmSync(join(dir, 'etc/hostname'), { force: true });
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
    for (const f of readdirSync(join(dir, d))) if (f.endsWith('.deb') || f.endsWith('_Packages')) rmSync(join(dir, d, f), { force: true });
  }
}

export interface RootfsResult {
  lowerDir: string;
  built: boolean;
  packed: string;
}

/** The unpacked rootfs to overlay, building and packing it first when the cache has none. */
export function ensureRootfs(cacheDir: string, log: (s: string) => void = () => {}): RootfsResult {
  const key = rootfsKey();
  const packed = join(cacheDir, `${key}.tar.zst`);
  const lowerDir = join(cacheDir, key);
  mkdirSync(cacheDir, { recursive: true });
  let built = false;
  if (!existsSync(packed)) {
    const tmp = join(cacheDir, `${key}.debootstrap`);
    rmSync(tmp, { recursive: true, force: true });
    log(`debootstrap bookworm into ${tmp} (once; cached as ${packed})`);
    run('debootstrap', ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, 'bookworm', tmp, MIRROR]);
    customize(tmp);
    run('tar', ['--numeric-owner', '--xattrs', '-I', 'zstd -T0 -3', '-C', tmp, '-cf', `${packed}.tmp`, '.']);
    renameSync(`${packed}.tmp`, packed);
    rmSync(lowerDir, { recursive: true, force: true });
    renameSync(tmp, lowerDir);
    built = true;
  }
  if (!existsSync(join(lowerDir, 'usr/lib/systemd/systemd'))) {
    rmSync(lowerDir, { recursive: true, force: true });
    mkdirSync(`${lowerDir}.tmp`, { recursive: true });
    run('tar', ['--numeric-owner', '--xattrs', '-I', 'zstd -T0', '-C', `${lowerDir}.tmp`, '-xf', packed]);
    renameSync(`${lowerDir}.tmp`, lowerDir);
  }
  return { lowerDir, built, packed };
}

/** For a rootfs already debootstrapped by hand: customize and pack it as the cache entry. */
export function adoptRootfs(cacheDir: string, dir: string): void {
  const key = rootfsKey();
  customize(dir);
  run('tar', ['--numeric-owner', '--xattrs', '-I', 'zstd -T0 -3', '-C', dir, '-cf', join(cacheDir, `${key}.tar.zst`), '.']);
  renameSync(dir, join(cacheDir, key));
}
