// The command lines the units run: parsed as systemd parses ExecStart=, and mapped into the lab.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execStartArgv, mapToLab, splitCommandLine, unitCommand } from '../../agents/cli/install/units.ts';

const SYSTEMD = new URL('../../systemd', import.meta.url).pathname;
const unitText = (f: string) => readFileSync(join(SYSTEMD, f), 'utf8');

test('each hawser unit runs `hawser <component> --config /etc/hawser/<component>.yaml`', (t) => {
  for (const c of ['control-plane', 'kubelet', 'kube-proxy', 'podnet']) {
    t.deepEqual(execStartArgv(unitText(`hawser-${c}.service`)), ['/usr/local/bin/hawser', c, '--config', `/etc/hawser/${c}.yaml`]);
  }
});

test("the containerd drop-in replaces the package's ExecStart (an empty ExecStart= resets)", (t) => {
  const pkg = '[Unit]\nDescription=containerd\n[Service]\nExecStartPre=-/sbin/modprobe overlay\nExecStart=/usr/bin/containerd\n';
  t.deepEqual(execStartArgv(pkg, unitText('containerd.service.d/10-hawser.conf')), ['/usr/bin/containerd', '--config', '/etc/hawser/containerd.toml']);
  t.throws(() => execStartArgv(pkg, '[Service]\nExecStart=/bin/true\n'), { message: /exactly one ExecStart/ });
});

test('systemd word splitting: quotes, escapes, continuations, prefixes, %%', (t) => {
  t.deepEqual(splitCommandLine(`/bin/x "a b" 'c d' e\\ f 100%%`), ['/bin/x', 'a b', 'c d', 'e f', '100%']);
  t.deepEqual(execStartArgv('[Service]\nExecStart=-/bin/x \\\n  --flag y\n'), ['/bin/x', '--flag', 'y']);
  t.deepEqual(execStartArgv('# c\n[Service]\n; note\nExecStart=+/bin/x "q"\n[Install]\nExecStart=/not/this\n'), ['/bin/x', 'q']);
  t.throws(() => splitCommandLine('/bin/x $HOME'), { message: /environment expansion/ });
  t.throws(() => splitCommandLine('/bin/x %n'), { message: /specifier %n/ });
  t.throws(() => splitCommandLine('/bin/x "open'), { message: /unbalanced/ });
});

test("in the lab, the wrapper becomes node + bundle and /etc/hawser the node's own dir; nothing else changes", (t) => {
  const m = { hawser: ['/usr/bin/node', '/repo/dist/hawser.cjs'], etcDir: '/var/lib/hawser-lab/x/w1/etc' };
  t.deepEqual(unitCommand(join(SYSTEMD, 'hawser-kubelet.service'), m), [
    '/usr/bin/node',
    '/repo/dist/hawser.cjs',
    'kubelet',
    '--config',
    '/var/lib/hawser-lab/x/w1/etc/kubelet.yaml',
  ]);
  t.deepEqual(mapToLab(['/usr/bin/containerd', '--config', '/etc/hawser/containerd.toml'], m), [
    '/usr/bin/containerd',
    '--config',
    '/var/lib/hawser-lab/x/w1/etc/containerd.toml',
  ]);
});
