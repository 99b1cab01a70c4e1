// The resident CNI daemon behind the exec shim (shim/shim.c). One per network namespace: it owns
// <runDir>/<netns inode>/ with `netns` (a symlink to its own /proc/<pid>/ns/net, which the shim tests
// with `-ef`) and `q/`, where each shim makes a FIFO "<pid>.<plugin>". For each FIFO the daemon checks
// the caller (root, same netns), reads its environment and stdin through /proc/<pid>/ (the shim keeps
// copies of its stdin/stdout/stderr on fds 7/8/9, since its `read <fifo` swaps fd 0), runs the same
// dispatch as the one-shot plugin, writes stdout into the caller's stdout and the exit code into the
// FIFO. A request it cannot serve faithfully gets "F" before anything is read: the shim then runs the
// one-shot plugin itself.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  watch,
  writeSync,
  constants,
  type FSWatcher,
} from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { dispatch, type PluginFuncs } from '../skel/skel.ts';

export const DEFAULT_RUN_DIR = '/run/hawser/cni';
const REQUEST_RE = /^(\d+)\.([a-z0-9-]+)$/;
const CALLER_STDIN = 7;
const CALLER_STDOUT = 8;
const CALLER_STDERR = 9;

export interface DaemonOptions {
  runDir?: string;
  plugins: Record<string, PluginFuncs>;
  /** exit after this long without a request (0: never) */
  idleMs?: number;
  /** exit once this file changes (our own bundle rebuilt), so the next request gets new code */
  watchFile?: string;
  log?: (msg: string) => void;
}

export function netnsInode(pid: number | 'self'): number {
  return statSync(`/proc/${pid}/ns/net`).ino;
}

/** Is a live daemon serving this namespace from dir? (the same test the shim makes with -ef) */
export function liveDaemonAt(dir: string): boolean {
  try {
    return statSync(join(dir, 'netns')).ino === netnsInode('self');
  } catch {
    return false;
  }
}

function callerOk(pid: number, ownNs: number): boolean {
  try {
    if (netnsInode(pid) !== ownNs) return false;
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return uid?.[1] === '0';
  } catch {
    return false;
  }
}

function readEnviron(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

/** Open one of the caller's stdio fds through /proc; O_NONBLOCK so a pipe with no peer cannot hang us. */
function openCallerFd(pid: number, fd: number, write: boolean): { fd: number; pipe: boolean } {
  const flags = (write ? constants.O_WRONLY | constants.O_APPEND : constants.O_RDONLY) | constants.O_NONBLOCK;
  const f = openSync(`/proc/${pid}/fd/${fd}`, flags);
  const st = fstatSync(f);
  if (!st.isFIFO() && !st.isFile() && !st.isCharacterDevice()) {
    closeSync(f);
    throw new Error('unsupported stdio type');
  }
  return { fd: f, pipe: st.isFIFO() };
}

function readAll(h: { fd: number; pipe: boolean }): Promise<string> {
  if (!h.pipe) {
    const s = readFileSync(h.fd, 'utf8');
    closeSync(h.fd);
    return Promise.resolve(s);
  }
  return new Promise((resolve, reject) => {
    const sock = new Socket({ fd: h.fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => {
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    sock.on('error', reject);
  });
}

function writeAll(h: { fd: number; pipe: boolean }, text: string): Promise<void> {
  if (!h.pipe) {
    if (text) writeSync(h.fd, text);
    closeSync(h.fd);
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const sock = new Socket({ fd: h.fd, readable: false, writable: true });
    sock.on('error', reject);
    sock.end(text, () => {
      sock.destroy();
      resolve();
    });
  });
}

/** Open the request FIFO for writing; the shim opens it for reading right after creating it. */
async function openReply(path: string): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
      await new Promise((r) => setTimeout(r, 1)); // no reader yet: it comes within a millisecond or so
    }
  }
  throw new Error(`no reader on ${path}`);
}

export class CniDaemon {
  readonly dir: string;
  private readonly q: string;
  private readonly ownNs = netnsInode('self');
  private watcher?: FSWatcher;
  private readonly seen = new Set<string>();
  private inflight = 0;
  /** requests answered (not declined) so far */
  served = 0;
  private idleTimer?: NodeJS.Timeout;
  private watchedMtime = 0;
  private stopping = false;
  private readonly log: (m: string) => void;
  private onStopped!: () => void;
  /** resolves when stop() ran (idle, bundle changed, or a signal): what else the process holds is let go then */
  readonly stopped = new Promise<void>((r) => {
    this.onStopped = r;
  });

  constructor(private readonly opts: DaemonOptions) {
    this.dir = join(opts.runDir ?? DEFAULT_RUN_DIR, String(this.ownNs));
    this.q = join(this.dir, 'q');
    this.log = opts.log ?? (() => {});
  }

  /** Claim the namespace's spool dir; false if another live daemon already serves it. */
  start(): boolean {
    mkdirSync(this.opts.runDir ?? DEFAULT_RUN_DIR, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(this.dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (liveDaemonAt(this.dir)) return false;
      rmSync(this.dir, { recursive: true, force: true }); // left by a daemon that died
      mkdirSync(this.dir, { mode: 0o700 });
    }
    mkdirSync(this.q, { mode: 0o700 });
    if (this.opts.watchFile) this.watchedMtime = statSync(this.opts.watchFile).mtimeMs;
    this.watcher = watch(this.q, () => this.scan());
    symlinkSync(`/proc/${process.pid}/ns/net`, join(this.dir, 'netns')); // last: now shims use us
    this.scan();
    this.armIdle();
    return true;
  }

  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.onStopped();
    this.watcher?.close();
    clearTimeout(this.idleTimer);
    try {
      unlinkSync(join(this.dir, 'netns'));
    } catch {
      /* already gone */
    }
    // answer anything still queued with "run it yourself"
    for (const name of this.pending()) void this.decline(join(this.q, name));
    if (this.inflight === 0) rmSync(this.dir, { recursive: true, force: true });
  }

  private pending(): string[] {
    try {
      return readdirSync(this.q).filter((n) => REQUEST_RE.test(n) && !this.seen.has(n));
    } catch {
      return [];
    }
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.opts.idleMs) this.idleTimer = setTimeout(() => this.inflight === 0 && this.stop(), this.opts.idleMs).unref();
  }

  private scan(): void {
    if (this.stopping) return;
    for (const name of this.pending()) {
      this.seen.add(name);
      this.inflight++;
      this.handle(name)
        .catch((e: Error) => this.log(`request ${name}: ${e.message}`))
        .finally(() => {
          this.seen.delete(name);
          this.inflight--;
          this.armIdle();
          this.afterRequest();
        });
    }
  }

  private afterRequest(): void {
    if (this.opts.watchFile && !this.stopping) {
      try {
        if (statSync(this.opts.watchFile).mtimeMs !== this.watchedMtime) this.stop();
      } catch {
        this.stop();
      }
    }
    if (this.stopping && this.inflight === 0) rmSync(this.dir, { recursive: true, force: true });
  }

  private async decline(fifo: string): Promise<void> {
    try {
      const fd = await openReply(fifo);
      unlinkSync(fifo);
      writeSync(fd, 'F\n');
      closeSync(fd);
    } catch {
      rmSync(fifo, { force: true });
    }
  }

  private async handle(name: string): Promise<void> {
    const fifo = join(this.q, name);
    const [, pidText, plugin] = REQUEST_RE.exec(name)!;
    const pid = Number(pidText);
    const funcs = this.opts.plugins[plugin];
    if (!funcs || !callerOk(pid, this.ownNs)) return this.decline(fifo);
    let stdout: { fd: number; pipe: boolean };
    let env: Record<string, string>;
    try {
      env = readEnviron(pid);
      stdout = openCallerFd(pid, CALLER_STDOUT, true);
    } catch {
      return this.decline(fifo);
    }
    // The FIFO is opened alongside the work (the shim opens its end just after creating it); holding
    // it means our death shows the shim an EOF instead of a hang.
    const reply = openReply(fifo).then((fd) => {
      unlinkSync(fifo);
      return fd;
    });
    reply.catch(() => rmSync(fifo, { force: true }));
    let code = 1;
    try {
      let res;
      try {
        const stdin = env.CNI_COMMAND === 'VERSION' ? '' : await readAll(openCallerFd(pid, CALLER_STDIN, false));
        res = await dispatch(funcs, { env, stdin });
      } catch (e) {
        res = { stdout: JSON.stringify({ cniVersion: '1.0.0', code: 5, msg: `hawser CNI daemon: ${(e as Error).message}` }), stderr: '', exitCode: 1 };
      }
      if (res.stderr) await writeAll(openCallerFd(pid, CALLER_STDERR, true), res.stderr).catch(() => {});
      await writeAll(stdout, res.stdout);
      code = res.exitCode;
      this.served++;
    } finally {
      const fd = await reply;
      writeSync(fd, `${code}\n`);
      closeSync(fd);
    }
  }
}
