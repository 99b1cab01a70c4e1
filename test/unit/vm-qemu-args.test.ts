// The VM test's QEMU command line (agents/cli/vm/qemu.ts): the root disk on its overlay first, then
// the read-only disks the host hands in, in order, so that the guest sees them as /dev/vdb, /dev/vdc.
import test from 'ava';
import { consoleAtLogin, qemuArgs } from '../../agents/cli/vm/qemu.ts';

const vm = {
  dir: '/s',
  sshPort: 2222,
  pidFile: '/s/qemu.pid',
  serialLog: '/s/serial.log',
  monitor: '/s/monitor.sock',
  image: { kernel: '/c/vmlinuz', initrd: '/c/initrd.img' },
};
const drives = (args: string[]) => args.flatMap((a, i) => (a === '-drive' ? [args[i + 1]] : []));

test('the root disk comes first, then each read-only disk as raw virtio, in order', (t) => {
  t.deepEqual(drives(qemuArgs(vm, '/s/overlay.qcow2', { readOnlyDisks: ['/p/a.img', '/p/b.img'] })), [
    'file=/s/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe',
    'file=/p/a.img,format=raw,if=virtio,readonly=on',
    'file=/p/b.img,format=raw,if=virtio,readonly=on',
  ]);
  t.deepEqual(drives(qemuArgs(vm, '/s/overlay.qcow2')), ['file=/s/overlay.qcow2,format=qcow2,if=virtio,cache=unsafe']);
});

test('no way out of the VM: user networking restricted, only ssh forwarded from loopback', (t) => {
  const args = qemuArgs(vm, '/s/overlay.qcow2');
  t.is(args[args.indexOf('-netdev') + 1], 'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22');
  t.true(args.join(' ').includes('systemd.unified_cgroup_hierarchy=1'));
});

test('the console is at a login prompt only when the last prompt came after the last reboot', (t) => {
  const boot1 = '[   10.99] platform regulatory.0: firmware: failed to load regulatory.db (-2)\n\nDebian GNU/Linux 12 hawser-vm ttyS0\n\n';
  t.false(consoleAtLogin(''), 'nothing yet');
  t.false(consoleAtLogin(boot1), 'booting, no prompt');
  const up = `${boot1}hawser-vm login: `;
  t.true(consoleAtLogin(up));
  // the kernel writes after the prompt on the same line (an OOM kill): still up
  t.true(consoleAtLogin(`${up}[  104.18] Memory cgroup out of memory: Killed process 1019 (dd)\n`));
  const rebooting = `${up}[  167.21] watchdog: watchdog0: watchdog did not stop!\n[  167.24] reboot: Restarting system\n${boot1}`;
  t.false(consoleAtLogin(rebooting), "the old boot's prompt does not count");
  t.true(consoleAtLogin(`${rebooting}hawser-vm login: `));
});
