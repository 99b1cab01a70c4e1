// The message of a terminated container: what it wrote to its terminationMessagePath (at most
// 4096 bytes), or with terminationMessagePolicy FallbackToLogsOnError and a failure exit, the tail
// of its log (80 lines, 2048 bytes), as upstream caps them.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import * as L from './labels.ts';
import type { ContainerDetail } from './runtime.ts';

export const MAX_MESSAGE_BYTES = 4096;
export const MAX_LOG_LINES = 80;
export const MAX_LOG_BYTES = 2048;

function readHead(path: string, max: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readTail(path: string, max: number): string {
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, max);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The text of CRI log lines ("<time> stdout F text"); partial lines (P) join the next. Pure. */
export function logText(raw: string): string {
  let out = '';
  for (const line of raw.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    out += m[2] + (m[1] === 'F' ? '\n' : '');
  }
  return out;
}

/** Last `lines` lines and at most `bytes` bytes of a text. Pure. */
export function tail(text: string, lines: number, bytes: number): string {
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  let out = all.slice(-lines).join('\n') + (text.endsWith('\n') ? '\n' : '');
  while (Buffer.byteLength(out) > bytes) out = out.slice(1);
  return out;
}

export function terminationMessage(d: ContainerDetail): string {
  const path = d.annotations[L.TERMINATION_MESSAGE_PATH] ?? '/dev/termination-log';
  const file = d.mounts.find((m) => m.containerPath === path)?.hostPath;
  const written = file ? readHead(file, MAX_MESSAGE_BYTES) : '';
  if (written) return written;
  if (d.annotations[L.TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' && d.exitCode && d.logPath) {
    // read enough raw bytes that 80 lines of text survive the CRI framing
    return tail(logText(readTail(d.logPath, 64 * 1024)), MAX_LOG_LINES, MAX_LOG_BYTES);
  }
  return '';
}
