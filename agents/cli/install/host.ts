// The host side effects of an install that are not files: Debian packages through apt, and units
// through systemctl. Each is skipped, with a note saying so, where it cannot or must not run: a
// --root install never touches the host, and without systemd as PID 1 nothing can be started.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

const have = (cmd: string): boolean => {
  try {
    run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};

export function dpkgInstalled(pkg: string): boolean {
  try {
    return run('dpkg-query', ['-W', '-f=${Status}', pkg]).includes('install ok installed');
  } catch {
    return false;
  }
}

/** Installs the missing packages; returns the ones it installed (uninstall removes only those). */
export function aptInstall(pkgs: string[], isInstalled = dpkgInstalled): string[] {
  const missing = pkgs.filter((p) => !isInstalled(p));
  if (!missing.length) return [];
  if (!have('apt-get')) throw new Error(`install these packages with your distribution's package manager, then rerun: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { DEBIAN_FRONTEND: 'noninteractive' });
  return missing;
}

export function aptRemove(pkgs: string[]): void {
  if (pkgs.length) run('apt-get', ['remove', '-y', '-qq', ...pkgs], { DEBIAN_FRONTEND: 'noninteractive' });
}

/** sd_booted(): systemd is PID 1 when /run/systemd/system exists. */
export const systemdIsInit = (): boolean => existsSync('/run/systemd/system');

/**
 * The cgroup driver for an agent on this host, as k3s picks it: systemd where systemd is PID 1 on
 * the unified (v2) hierarchy, which then owns the tree; cgroupfs on v1/hybrid hosts, where the
 * kubelet's own /kubepods tree is what has always run (and nspawn machines delegate no v1 slices).
 */
export const hostCgroupDriver = (): 'cgroupfs' | 'systemd' => (systemdIsInit() && existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'systemd' : 'cgroupfs');

export const systemctl = (...args: string[]): string => run('systemctl', args);

/** Loads kernel settings now (the files make them permanent); failures are reported, not fatal. */
export function applyKernelSettings(sysctlFile: string, modules: string[]): string[] {
  const notes: string[] = [];
  for (const m of modules) {
    try {
      run('modprobe', [m]);
    } catch {
      notes.push(`could not load kernel module ${m} (built in, or not available)`);
    }
  }
  try {
    run('sysctl', ['-q', '-p', sysctlFile]);
  } catch (e) {
    notes.push(`sysctl -p ${sysctlFile}: ${String((e as Error).message).split('\n')[0]}`);
  }
  return notes;
}
