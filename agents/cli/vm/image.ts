// The VM test's guest disk: the machine lab's cached Debian rootfs (agents/cli/machines/rootfs.ts)
// plus what a real boot needs (a kernel, an initramfs with only the virtio and ext4 modules, which
// builds in seconds where the default MODULES=most takes minutes, sshd with a generated key, DHCP on
// the virtio NIC, an fstab), packed with `mkfs.ext4 -d` (no loop mount). Built once into the same
// cache directory; each boot runs on a throwaway qcow2 overlay of it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRootfs, rootfsKey } from '../machines/rootfs.ts';

export const GUEST_PACKAGES = ['linux-image-amd64', 'initramfs-tools', 'openssh-server'];
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_net', 'ext4', 'crc32c'];
const DISK_SIZE = '6G';

const NETWORK = `[Match]
Name=en* eth*

[Network]
DHCP=ipv4
`;

export interface VmImage {
  dir: string;
  kernel: string;
  initrd: string;
  disk: string;
  sshKey: string;
  built: boolean;
}

/** What the image depends on: the rootfs it starts from and what is added to it. */
export function vmImageKey(): string {
  const h = createHash('sha256')
    .update(JSON.stringify([rootfsKey(), GUEST_PACKAGES, INITRAMFS_MODULES, NETWORK, DISK_SIZE]))
    .digest('hex');
  return `vm-bookworm-${h.slice(0, 12)}`;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

function customize(root: string, pubKey: string): void {
  writeFileSync(join(root, 'etc/fstab'), '/dev/vda / ext4 rw,errors=remount-ro 0 1\n');
  writeFileSync(join(root, 'etc/hostname'), 'hawser-vm\n');
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1 localhost\n127.0.1.1 hawser-vm\n');
  writeFileSync(join(root, 'etc/systemd/network/10-vm.network'), NETWORK);
  mkdirSync(join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'root/.ssh/authorized_keys'), pubKey, { mode: 0o600 });
  // the nspawn machines' fake modules.builtin belongs to the host's kernel, not the guest's
  for (const d of readdirSync(join(root, 'lib/modules')))
    if (!existsSync(join(root, 'lib/modules', d, 'kernel'))) rmSync(join(root, 'lib/modules', d), { recursive: true });
  run('systemctl', [`--root=${root}`, 'disable', 'hawser-cgroup-rw.service', 'hawser-lab-pod-reaper.service']);
  run('systemctl', [`--root=${root}`, 'enable', 'systemd-networkd.service', 'ssh.service', 'serial-getty@ttyS0.service']);
}

function installGuestPackages(root: string): void {
  copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  // read by the kernel package's initramfs build, so written before it
  mkdirSync(join(root, 'etc/initramfs-tools/conf.d'), { recursive: true });
  writeFileSync(join(root, 'etc/initramfs-tools/conf.d/hawser-vm'), 'MODULES=list\n');
  writeFileSync(join(root, 'etc/initramfs-tools/modules'), `${INITRAMFS_MODULES.join('\n')}\n`);
  const mounts = ['proc', 'sys', 'dev'];
  try {
    for (const m of mounts) run('mount', ['--bind', `/${m}`, join(root, m)]);
    const env = 'DEBIAN_FRONTEND=noninteractive';
    run('chroot', [
      root,
      'sh',
      '-c',
      `${env} apt-get update -q && ${env} apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold ${GUEST_PACKAGES.join(' ')} && apt-get clean && rm -rf /var/lib/apt/lists/*`,
    ]);
  } finally {
    for (const m of mounts.reverse()) {
      try {
        run('umount', ['-l', join(root, m)]);
      } catch {
        /* not mounted */
      }
    }
  }
  writeFileSync(join(root, 'etc/resolv.conf'), 'nameserver 10.0.2.3\n');
  // sshd's host keys: fresh per image (generated at package install)
}

/** The cached VM image, building it (from the cached rootfs) when there is none. */
export function ensureVmImage(cacheDir: string, log: (s: string) => void = () => {}): VmImage {
  const key = vmImageKey();
  const dir = join(cacheDir, key);
  const img: VmImage = {
    dir,
    kernel: join(dir, 'vmlinuz'),
    initrd: join(dir, 'initrd.img'),
    disk: join(dir, 'disk.img'),
    sshKey: join(dir, 'id_ed25519'),
    built: false,
  };
  if (existsSync(join(dir, 'done'))) return img;
  const rootfs = ensureRootfs(cacheDir, log);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const root = join(tmp, 'root');
  log(`building the VM image ${dir} from ${rootfs.lowerDir} (once)`);
  run('cp', ['-a', rootfs.lowerDir, root]);
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hawser-vm-test', '-f', join(tmp, 'id_ed25519')]);
  installGuestPackages(root);
  customize(root, readFileSync(join(tmp, 'id_ed25519.pub'), 'utf8'));
  const boot = readdirSync(join(root, 'boot'));
  const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-'));
  if (!kernel || !initrd) throw new Error(`no kernel or initramfs in ${join(root, 'boot')}: ${boot.join(' ')}`);
  copyFileSync(join(root, 'boot', kernel), join(tmp, 'vmlinuz'));
  copyFileSync(join(root, 'boot', initrd), join(tmp, 'initrd.img'));
  run('mkfs.ext4', ['-q', '-L', 'hawser-vm', '-d', root, join(tmp, 'disk.img'), DISK_SIZE]);
  rmSync(root, { recursive: true, force: true });
  chmodSync(join(tmp, 'id_ed25519'), 0o600);
  writeFileSync(join(tmp, 'done'), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { ...img, built: true };
}
