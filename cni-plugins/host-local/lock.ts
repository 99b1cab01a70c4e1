// An exclusive flock(2) on <dir>/lock, the same lock the reference host-local takes, so our plugin,
// the reference and several of our processes all exclude each other. Node has no flock, so a
// `flock -x 3` child locks our own open file, passed to it as fd 3: a flock belongs to the open file
// description, which we keep after the child exits, so the lock is held with no process left
// running, closing the file releases it, and the kernel drops it if we crash. One short-lived
// process per lock instead of a `flock ... cat` pair that stayed alive while the lock was held.
// Inside one process the callers queue on a promise chain first, so only one child waits per dir.
// A long-lived process (the daemon) may keep the lock briefly after use (setLockLinger), so a burst
// of ADDs pays for one child instead of one per ADD; others wait at most that long once it is idle.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { CniError, ErrCode } from '../skel/errors.ts';

interface Held {
  alive: boolean;
  release: () => Promise<void>;
  timer?: NodeJS.Timeout;
}

let lingerMs = 0;
const held = new Map<string, Held>();
const queues = new Map<string, Promise<void>>();

export function setLockLinger(ms: number): void {
  lingerMs = ms;
}

const openLock = (dir: string): number => openSync(`${dir}/lock`, 'a', 0o750); // same mode as the reference's lock file

/** Create the lock file, as taking the lock would, without taking it. */
export function touchLock(dir: string): void {
  closeSync(openLock(dir));
}

async function acquire(dir: string, timeoutMs = 60_000): Promise<Held> {
  const path = `${dir}/lock`;
  const fd = openLock(dir);
  let stderr = '';
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (code !== 0) {
    closeSync(fd);
    throw new CniError(ErrCode.tryAgainLater, `failed to lock ${path}: ${stderr.trim() || `flock exit ${code}`}`);
  }
  const h: Held = {
    alive: true,
    release: async () => {
      if (!h.alive) return;
      h.alive = false;
      closeSync(fd);
    },
  };
  return h;
}

/** Run fn while holding the directory's lock. */
export async function withLock<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  const prev = queues.get(dir) ?? Promise.resolve();
  let done!: () => void;
  const tail = prev.then(() => new Promise<void>((r) => (done = r)));
  queues.set(dir, tail);
  await prev;
  try {
    let h = held.get(dir);
    if (h) clearTimeout(h.timer);
    if (!h?.alive) {
      h = await acquire(dir);
      if (lingerMs) held.set(dir, h);
    }
    try {
      return await fn();
    } finally {
      if (lingerMs) {
        const mine = h;
        mine.timer = setTimeout(() => {
          if (held.get(dir) === mine) held.delete(dir);
          void mine.release();
        }, lingerMs);
      } else {
        await h.release();
      }
    }
  } finally {
    done();
    if (queues.get(dir) === tail) queues.delete(dir);
  }
}

/** Drop every lingering lock now (daemon shutdown). */
export async function releaseAllLocks(): Promise<void> {
  const all = [...held.values()];
  held.clear();
  for (const h of all) {
    clearTimeout(h.timer);
    await h.release();
  }
}
