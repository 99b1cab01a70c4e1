// An exclusive flock(2) on <dir>/lock, the same lock the reference host-local takes, so our plugin,
// the reference and several of our processes all exclude each other. Node has no flock, so a tiny
// `flock -x <file> cat` child holds it: cat echoing our probe line proves the lock is held, and ending
// its stdin (or our death, which closes the pipe) releases it. The kernel drops it on any crash.
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

async function acquire(dir: string, timeoutMs = 60_000): Promise<Held> {
  const path = `${dir}/lock`;
  closeSync(openSync(path, 'a', 0o750)); // same mode as the reference's lock file
  const child = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), path, 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const h: Held = {
    alive: true,
    release: async () => {
      h.alive = false;
      child.stdin.end();
      await exited;
    },
  };
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code) => {
      h.alive = false;
      resolve(code ?? 1);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.once('data', () => resolve());
    child.on('error', reject);
    exited.then((code) => reject(new CniError(ErrCode.tryAgainLater, `failed to lock ${path}: ${stderr.trim() || `flock exit ${code}`}`)));
    child.stdin.write('locked\n');
  });
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
