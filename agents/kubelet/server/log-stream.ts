// Writes one container's CRI log file to an HTTP response with the PodLogOptions applied. With
// follow, it keeps reading what containerd appends (polling the file, which also notices rotation:
// a new file at the path is read from its start once the old one is drained) until the container
// is no longer running, the client goes away, or limitBytes is reached.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import type { Writable } from 'node:stream';
import { formatLine, LineAssembler, tail, wanted, type LogLine } from './cri-log.ts';
import type { LogRequest } from './params.ts';

export interface FollowControl {
  /** whether the container still runs (the follow ends once it does not) */
  isRunning(): Promise<boolean>;
  /** aborted when the client left or the server is closing */
  signal: AbortSignal;
  /** how often the file is checked for growth; default 200 ms */
  pollMs?: number;
  /** how often the container state is checked; default 1 s */
  stateEveryMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** A byte budget for limitBytes; write() returns false once it is spent. */
class Output {
  private left: number;
  constructor(
    private readonly out: Writable,
    limit: number | undefined,
    private readonly timestamps: boolean | undefined,
  ) {
    this.left = limit ?? Infinity;
  }

  async write(lines: LogLine[]): Promise<boolean> {
    if (this.left <= 0) return false;
    if (lines.length === 0) return true;
    let buf = Buffer.from(lines.map((l) => formatLine(l, this.timestamps)).join(''));
    if (buf.length > this.left) buf = buf.subarray(0, this.left);
    this.left -= buf.length;
    // wait for drain or close, removing both listeners: once() would leave one per wait (listener leak)
    if (!this.out.write(buf))
      await new Promise<void>((r) => {
        const done = () => {
          this.out.off('drain', done);
          this.out.off('close', done);
          r();
        };
        this.out.on('drain', done);
        this.out.on('close', done);
      });
    return this.left > 0;
  }
}

const ino = async (path: string) => (await stat(path).catch(() => undefined))?.ino;

async function openOrUndefined(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const CHUNK = 1 << 20;
const TAIL_WINDOW_MAX = 16 << 20;

/** Reads up to `max` bytes from `pos` (fewer at the end of the file). */
async function readAt(fh: FileHandle, pos: number, max = CHUNK): Promise<Buffer> {
  const { size } = await fh.stat();
  if (size <= pos) return Buffer.alloc(0);
  const buf = Buffer.alloc(Math.min(max, size - pos));
  const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
  return buf.subarray(0, bytesRead);
}

/**
 * Where to start reading so that the last `n` wanted lines are included, without reading a large
 * file whole: windows from the end, doubling, each starting after its first (possibly cut) record.
 * Past TAIL_WINDOW_MAX it gives up and answers 0; the caller keeps only the last lines anyway.
 */
export async function tailStart(fh: FileHandle, size: number, n: number, o: LogRequest): Promise<number> {
  for (let win = 64 * 1024; win <= TAIL_WINDOW_MAX; win *= 2) {
    const start = size - win;
    if (start <= 0) return 0;
    const buf = await readAt(fh, start, win);
    const cut = buf.indexOf(0x0a);
    if (cut < 0) continue;
    const asm = new LineAssembler();
    const got = [...asm.push(buf.subarray(cut + 1).toString()), ...asm.flush()].filter((l) => wanted(l, o)).length;
    if (got > n) return start + cut + 1;
  }
  return 0;
}

export async function writeContainerLog(path: string, o: LogRequest, res: Writable, follow?: FollowControl): Promise<void> {
  const out = new Output(res, o.limitBytes, o.timestamps);
  const pick = (lines: LogLine[]) => lines.filter((l) => wanted(l, o));
  const asm = new LineAssembler();
  let decoder = new StringDecoder('utf8');
  let fh = await openOrUndefined(path);
  let pos = 0;
  const following = o.follow && follow;
  try {
    // what the file holds now: streamed in chunks, or with tailLines only its last lines kept
    const n = o.tailLines;
    let kept: LogLine[] = [];
    const take = async (lines: LogLine[]): Promise<boolean> => {
      if (n === undefined) return out.write(lines);
      kept.push(...lines);
      if (kept.length > 2 * n + 1024) kept = tail(kept, n);
      return true;
    };
    if (fh) {
      const size = (await fh.stat()).size;
      if (n !== undefined) pos = await tailStart(fh, size, n, o);
      while (pos < size) {
        const chunk = await readAt(fh, pos, Math.min(CHUNK, size - pos));
        if (chunk.length === 0) break;
        pos += chunk.length;
        if (!(await take(pick(asm.push(decoder.write(chunk)))))) return;
      }
    }
    if (!following && !(await take(pick([...asm.push(decoder.end()), ...asm.flush()])))) return;
    if (n !== undefined && !(await out.write(tail(kept, n)))) return;
    if (!following) return;

    const { signal } = follow;
    const pollMs = follow.pollMs ?? 200;
    const stateEvery = Math.max(1, Math.round((follow.stateEveryMs ?? 1000) / pollMs));
    let behind = false; // the last read was cut at the chunk size: read on without waiting
    for (let tick = 1; !signal.aborted; tick++) {
      if (!behind) await sleep(pollMs, signal);
      if (signal.aborted) return;
      const running = behind || tick % stateEvery !== 0 ? true : await follow.isRunning();
      fh ??= await openOrUndefined(path);
      if (!fh) {
        if (!running) return;
        continue;
      }
      const more = await readAt(fh, pos, 4 * CHUNK);
      behind = more.length === 4 * CHUNK;
      pos += more.length;
      let lines = asm.push(decoder.write(more));
      const pathIno = await ino(path);
      if (more.length === 0 && pathIno !== undefined && pathIno !== (await fh.stat()).ino) {
        // rotated: the old file is drained, continue with the new one from its start
        await fh.close();
        fh = await openOrUndefined(path);
        pos = 0;
        decoder = new StringDecoder('utf8');
      }
      if (!running) {
        // the runtime may still be copying the last output: one more read, then the rest counts as lines
        if (fh) {
          await sleep(Math.min(pollMs, 100), signal);
          for (let chunk = await readAt(fh, pos); chunk.length; chunk = await readAt(fh, pos)) {
            pos += chunk.length;
            lines = lines.concat(asm.push(decoder.write(chunk)));
          }
        }
        lines.push(...asm.push(decoder.end()), ...asm.flush());
        await out.write(pick(lines));
        return;
      }
      if (!(await out.write(pick(lines)))) return;
    }
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
