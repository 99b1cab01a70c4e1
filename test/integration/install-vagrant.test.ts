// The Vagrant lab's files, checked as far as this machine allows (no VMs here): `vagrant validate`
// (Debian's vagrant) accepts the Vagrantfile with its defaults and with the environment settings,
// refuses bad settings, and shellcheck passes on the provisioning scripts.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
// Vagrant's state and home go to a throwaway dir, not into the repository or $HOME
const tmp = mkdtempSync(join(tmpdir(), 'hawser-vagrant-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

function validate(env: Record<string, string> = {}): { ok: boolean; out: string; ignoredProvider: boolean } {
  const run = (args: string[]) =>
    spawnSync('vagrant', ['validate', ...args], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, VAGRANT_HOME: join(tmp, 'home'), VAGRANT_DOTFILE_PATH: join(tmp, 'dot'), VAGRANT_CHECKPOINT_DISABLE: '1', ...env },
    });
  let r = run([]);
  let out = `${r.stdout}${r.stderr}`;
  // with no provider plugin installed (no VirtualBox, no libvirt), validation of provider blocks is impossible
  const ignoredProvider = r.status !== 0 && /No usable default provider/.test(out);
  if (ignoredProvider) {
    r = run(['--ignore-provider']);
    out = `${r.stdout}${r.stderr}`;
  }
  return { ok: r.status === 0, out, ignoredProvider };
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

test('vagrant validate accepts the Vagrantfile, with defaults and with every setting', (t) => {
  if (!have('vagrant')) return t.fail("needs Debian's vagrant package (apt-get install --no-install-recommends vagrant)");
  const d = validate();
  if (d.ignoredProvider) t.log('no Vagrant provider installed here: provider blocks not validated');
  t.true(d.ok, d.out);
  t.regex(d.out, /validated successfully/);
  const custom = validate({
    HAWSER_WORKERS: '3',
    HAWSER_BOX: 'bento/ubuntu-24.04',
    HAWSER_SUBNET: '192.168.60',
    HAWSER_BACKEND: 'vxlan',
    HAWSER_CPUS: '4',
    HAWSER_MEMORY: '4096',
  });
  t.true(custom.ok, custom.out);
});

test('vagrant validate refuses bad settings with a message naming them', (t) => {
  if (!have('vagrant')) return t.fail("needs Debian's vagrant package");
  for (const [k, v, msg] of [
    ['HAWSER_WORKERS', 'many', /invalid value for Integer/],
    ['HAWSER_WORKERS', '0', /HAWSER_WORKERS must be between/],
    ['HAWSER_BACKEND', 'flannel', /HAWSER_BACKEND must be host-gw or vxlan/],
    ['HAWSER_SUBNET', '10.0', /HAWSER_SUBNET must look like/],
  ] as const) {
    const r = validate({ [k]: v });
    t.false(r.ok, `${k}=${v}`);
    t.regex(r.out, msg);
  }
});

test('shellcheck passes on the vagrant/ scripts', (t) => {
  if (!have('shellcheck')) return t.fail("needs Debian's shellcheck package");
  const scripts = readdirSync(join(REPO, 'vagrant'))
    .filter((f) => f.endsWith('.sh'))
    .map((f) => `vagrant/${f}`);
  t.true(scripts.length >= 3, scripts.join(' '));
  const r = spawnSync('shellcheck', ['-x', ...scripts], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  t.is(r.status, 0, `${r.stdout}${r.stderr}`);
  // and it does flag a defect (an unquoted expansion), so a pass means something
  const bad = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: '#!/bin/bash\nrm -rf $1/x\n', encoding: 'utf8' });
  t.not(bad.status, 0);
});
