// Every unit hawser installs passes `systemd-analyze verify` (Debian's systemd package), checked
// where it lands: in a --root install whose root also holds the distribution's units and a
// containerd binary, as apt would leave them, so that verify resolves dependencies and checks that
// each ExecStart binary (the installed /usr/local/bin/hawser wrapper) exists and is executable.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localSystemdVersion } from '../../agents/cli/install/build.ts';
import { install } from '../../agents/cli/install/install.ts';
import { BACKOFF_DROPIN, BACKOFF_MIN_SYSTEMD } from '../../agents/cli/install/plan.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const tmp = mkdtempSync(join(tmpdir(), 'hawser-units-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const HOST_UNITS = '/usr/lib/systemd/system';

/** A root as a Debian host with containerd installed looks before hawser: distro units, containerd. */
function debianLikeRoot(name: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync(HOST_UNITS, join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  try {
    linkSync('/usr/bin/containerd', join(root, 'usr/bin/containerd'));
  } catch {
    copyFileSync('/usr/bin/containerd', join(root, 'usr/bin/containerd'));
  }
  return root;
}

/** verify's verdict: clean only when it exits 0 and prints nothing (warnings count as failures). */
function verify(root: string, unit: string): { ok: boolean; out: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, unit], { encoding: 'utf8', timeout: 30_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return { ok: r.status === 0 && out === '', out };
}

const haveTools = existsSync('/usr/bin/systemd-analyze') && existsSync('/usr/bin/containerd') && existsSync(HOST_UNITS);

test.serial('every unit of a server and of an agent install passes systemd-analyze verify', async (t) => {
  if (!haveTools) return t.fail("needs Debian's systemd and containerd packages (make apt)");
  for (const [role, separateUnits] of [
    ['server', false],
    ['agent', false],
    ['agent', true],
  ] as const) {
    const root = debianLikeRoot(`${role}${separateUnits ? '-separate' : ''}`);
    await install({ role, root, source: REPO, settings: { nodeName: 'n1', ...(separateUnits ? { separateUnits } : {}) } });
    const units = readdirSync(join(root, 'etc/systemd/system')).filter((f) => f.endsWith('.service'));
    t.deepEqual(
      units.sort(),
      role === 'server'
        ? ['hawser-control-plane.service']
        : separateUnits
          ? ['hawser-kube-proxy.service', 'hawser-kubelet.service', 'hawser-podnet.service']
          : ['hawser-agent.service'],
    );
    for (const u of [...units.map((f) => `/etc/systemd/system/${f}`), ...(role === 'agent' ? ['containerd.service'] : [])]) {
      const v = verify(root, u.startsWith('/') ? join(root, u) : u);
      t.true(v.ok, `${role}: ${u}: ${v.out}`);
    }
    // the containerd drop-in is in effect: verify sees hawser's ExecStart
    if (role === 'agent') {
      const shown = execFileSync('systemd-analyze', ['cat-config', `--root=${root}`, 'systemd/system/containerd.service.d/10-hawser.conf'], {
        encoding: 'utf8',
      });
      t.regex(shown, /ExecStart=\/usr\/bin\/containerd --config \/etc\/hawser\/containerd\.toml/);
    }
  }
});

test.serial('verify catches a broken unit (the check can fail)', async (t) => {
  if (!haveTools) return t.fail("needs Debian's systemd and containerd packages (make apt)");
  const root = debianLikeRoot('broken');
  await install({ role: 'agent', root, source: REPO, settings: { nodeName: 'n1' } });
  const unit = join(root, 'etc/systemd/system/hawser-agent.service');
  // the wrapper gone: ExecStart points at nothing
  rmSync(join(root, 'usr/local/bin/hawser'));
  const missing = verify(root, unit);
  t.false(missing.ok);
  t.regex(missing.out, /hawser.*(not executable|No such file)/);
  // a misspelt key
  writeFileSync(join(root, 'etc/systemd/system/hawser-typo.service'), '[Service]\nExecStart=/usr/bin/containerd\nRestartt=always\n');
  const typo = verify(root, join(root, 'etc/systemd/system/hawser-typo.service'));
  t.false(typo.ok);
  t.regex(typo.out, /Unknown key/);
});

test.serial('the restart back-off drop-in is installed only where systemd knows its keys', async (t) => {
  if (!haveTools) return t.fail("needs Debian's systemd and containerd packages (make apt)");
  const version = localSystemdVersion() ?? 0;
  const root = debianLikeRoot('backoff');
  // write the drop-in regardless of version, to see what this systemd makes of it
  await install({ role: 'agent', root, source: REPO, settings: { nodeName: 'n1' }, systemdVersion: BACKOFF_MIN_SYSTEMD });
  t.true(existsSync(join(root, 'etc/systemd/system', BACKOFF_DROPIN)));
  const v = verify(root, join(root, 'etc/systemd/system/hawser-agent.service'));
  if (version >= BACKOFF_MIN_SYSTEMD) t.true(v.ok, v.out);
  else t.regex(v.out, /Unknown key 'RestartSteps'/, `systemd ${version} does not know RestartSteps: that is why the drop-in is gated`);
  // with this host's version, the install decides by itself
  const plain = debianLikeRoot('backoff-auto');
  await install({ role: 'agent', root: plain, source: REPO, settings: { nodeName: 'n1' }, systemdVersion: version });
  t.is(existsSync(join(plain, 'etc/systemd/system', BACKOFF_DROPIN)), version >= BACKOFF_MIN_SYSTEMD);
});
