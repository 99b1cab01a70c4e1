// Network namespace paths (CNI_NETNS) and sysctls inside them.
import { statfsSync, writeFileSync, readFileSync } from 'node:fs';
import { CniError, ErrCode } from '../skel/errors.ts';
import { run, runOk, type ExecResult } from './exec.ts';

const NSFS_MAGIC = 0x6e736673;
const PROCFS_MAGIC = 0x9fa0; // older kernels show /proc/<pid>/ns/net on procfs

/** Refuse a CNI_NETNS that is missing or is not on nsfs (the reference checks the statfs magic too). */
export function assertNetns(path: string): void {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (e) {
    throw new CniError(ErrCode.internal, `failed to open netns "${path}": failed to Statfs "${path}": ${(e as Error).message}`);
  }
  if (type !== NSFS_MAGIC && type !== PROCFS_MAGIC) {
    throw new CniError(ErrCode.internal, `failed to open netns "${path}": unknown FS magic on "${path}": ${type.toString(16)}`);
  }
}

/** Write a sysctl of this process's namespace (slash form, e.g. net/ipv4/ip_forward); returns false if absent. */
export function writeSysctl(key: string, value: string): boolean {
  try {
    writeFileSync(`/proc/sys/${key}`, value);
    return true;
  } catch {
    return false;
  }
}

export function readSysctl(key: string): string | null {
  try {
    return readFileSync(`/proc/sys/${key}`, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * In the namespace at `netns`: write best-effort sysctls, then run an `ip -batch` script, in one exec
 * chain (nsenter -> sh -> ip). Values travel as positional arguments, never inside the script text.
 * With json, ip prints JSON for show commands in the batch; their output is returned.
 */
export async function inNetns(
  netns: string,
  sysctls: ReadonlyArray<[string, string]>,
  ipLines: readonly string[],
  opts: { json?: boolean } = {},
): Promise<string> {
  const script =
    'while [ $# -ge 2 ]; do echo "$2" > "/proc/sys/$1" 2>/dev/null; shift 2; done; ' +
    (ipLines.length ? `exec ip${opts.json ? ' -j' : ''} -batch -` : 'exit 0');
  const args = ['--net=' + netns, 'sh', '-c', script, 'sh', ...sysctls.flat()];
  return runOk('nsenter', args, { input: ipLines.join('\n') + '\n' });
}

/** Run a fixed /bin/sh script inside the namespace; data goes in as "$1".. so it is never parsed as code. */
export function nsShell(netns: string, script: string, args: readonly string[], input = ''): Promise<ExecResult> {
  return run('nsenter', ['--net=' + netns, 'sh', '-c', script, 'sh', ...args], { input });
}

/** Whether a CNI_NETNS for DEL is gone (then there is nothing to clean up inside it). */
export function netnsGone(path: string): boolean {
  try {
    statfsSync(path);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
