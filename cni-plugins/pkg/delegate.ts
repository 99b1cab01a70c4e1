// Delegation to another plugin (the IPAM plugin), found by type in CNI_PATH and exec'd with the same
// environment and config, as the spec describes. Its error JSON is passed through unchanged.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { CniError, ErrCode } from '../skel/errors.ts';
import { run } from './exec.ts';

export function findPlugin(type: string, cniPath: string): string {
  const dirs = cniPath.split(':').filter(Boolean);
  if (type && !type.includes('/')) {
    for (const d of dirs) {
      const p = join(d, type);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* try the next directory */
      }
    }
  }
  throw new CniError(ErrCode.internal, `failed to find plugin "${type}" in path [${dirs.join(' ')}]`);
}

/**
 * How to run a delegate without exec'ing it: given the plugin type and the file found in CNI_PATH,
 * return an in-process runner when that file is one of our own plugins (see inprocess.ts).
 */
export type InProcessRunner = (env: Record<string, string | undefined>, stdin: string) => Promise<{ stdout: string; stderr: string; exitCode: number }>;
let inProcess: ((type: string, path: string) => InProcessRunner | undefined) | undefined;
export function setInProcessDelegates(lookup: (type: string, path: string) => InProcessRunner | undefined): void {
  inProcess = lookup;
}

/** Run verb `command` of plugin `type`; returns its parsed stdout (ADD) or undefined. */
export async function delegate(
  command: 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS',
  type: string,
  stdin: string,
  env: Record<string, string | undefined>,
): Promise<Record<string, unknown> | undefined> {
  const path = findPlugin(type, env.CNI_PATH ?? '');
  const childEnv = { ...env, CNI_COMMAND: command };
  const fast = inProcess?.(type, path);
  const r = fast ? await fast(childEnv, stdin) : await execPlugin(path, childEnv, stdin);
  if (r.exitCode !== 0) {
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
    if (parsed && typeof parsed.code === 'number') {
      throw new CniError(parsed.code, String(parsed.msg ?? ''), String(parsed.details ?? ''));
    }
    throw new CniError(ErrCode.internal, `netplugin failed: "${r.stdout.trim() || r.stderr.trim()}"`);
  }
  if (command !== 'ADD') return undefined;
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch (e) {
    throw new CniError(ErrCode.decodingFailure, `failed to decode ${type} result: ${(e as Error).message}`);
  }
}

async function execPlugin(path: string, env: Record<string, string | undefined>, stdin: string) {
  const r = await run(path, [], { env, input: stdin });
  return { stdout: r.stdout, stderr: r.stderr, exitCode: r.code };
}
