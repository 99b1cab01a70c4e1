// An exclusive flock(2) on <dir>/lock, the same lock the reference host-local takes, so our plugin,
// the reference and several of our processes all exclude each other. Node has no flock, so a tiny
// `flock -x <file> cat` child holds it: cat echoing our probe line proves the lock is held, and ending
// its stdin (or our death, which closes the pipe) releases it. The kernel drops it on any crash.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { CniError, ErrCode } from '../skel/errors.ts';

export type Unlock = () => Promise<void>;

export async function lockDir(dir: string, timeoutMs = 60_000): Promise<Unlock> {
  const path = `${dir}/lock`;
  closeSync(openSync(path, 'a', 0o750)); // same mode as the reference's lock file
  const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), path, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.once('data', () => resolve());
    child.on('error', reject);
    exited.then((code) => reject(new CniError(ErrCode.tryAgainLater, `failed to lock ${path}: ${stderr.trim() || `flock exit ${code}`}`)));
    child.stdin.write('locked\n');
  });
  return async () => {
    child.stdin.end();
    await exited;
  };
}

/** Run fn while holding the directory's lock. */
export async function withLock<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const unlock = await lockDir(dir);
  try {
    return await fn();
  } finally {
    await unlock();
  }
}
