// The CRI container log format: one line per record, "<RFC3339Nano> <stdout|stderr> <P|F> <text>",
// where P marks a partial line continued by the next record of the same stream. Pure parsing and
// selection, as `kubectl logs` options ask for them (timestamps, tailLines, sinceTime, limitBytes,
// stream), for a whole file (renderLog) and for a file that grows while it is followed (LineAssembler).
export type LogStream = 'stdout' | 'stderr';
export interface LogRecord {
  time: string;
  stream: LogStream;
  partial: boolean;
  text: string;
}

export function parseLine(line: string): LogRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return { time: line.slice(0, a), stream, partial: tag.split(':')[0] === 'P', text: c < 0 ? '' : line.slice(c + 1) };
}

/** A whole log line: partial records joined, stamped with the time of its first record. */
export interface LogLine {
  time: string;
  stream: LogStream;
  text: string;
}

/**
 * Turns CRI log text, fed in arbitrary chunks, into whole lines. A record cut by a chunk boundary
 * waits for the rest of it; partial records wait (per stream) for the record that ends the line.
 */
export class LineAssembler {
  private rest = '';
  private readonly pending = new Map<LogStream, LogLine>();

  push(text: string): LogLine[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop()!;
    return parts.flatMap((raw) => this.record(raw));
  }

  /** End of input: an unterminated last record and unfinished partial lines are lines too. */
  flush(): LogLine[] {
    const out = this.rest ? this.record(this.rest) : [];
    this.rest = '';
    out.push(...this.pending.values());
    this.pending.clear();
    return out;
  }

  private record(raw: string): LogLine[] {
    const r = raw ? parseLine(raw) : undefined;
    if (!r) return [];
    const before = this.pending.get(r.stream);
    const line = before ? { ...before, text: before.text + r.text } : { time: r.time, stream: r.stream, text: r.text };
    if (r.partial) {
      this.pending.set(r.stream, line);
      return [];
    }
    this.pending.delete(r.stream);
    return [line];
  }
}

export interface LogOptions {
  timestamps?: boolean;
  tailLines?: number;
  sinceTime?: Date;
  limitBytes?: number;
  /** only this stream (PodLogOptions.stream Stdout/Stderr); both when absent */
  stream?: LogStream;
}

/** Whether a line passes the stream and sinceTime filters (tail and byte limits apply to the result). */
export function wanted(l: LogLine, o: LogOptions): boolean {
  if (o.stream && l.stream !== o.stream) return false;
  return !o.sinceTime || Date.parse(l.time) >= o.sinceTime.getTime();
}

export function tail<T>(lines: T[], n: number | undefined): T[] {
  return n === undefined || n < 0 ? lines : lines.slice(Math.max(0, lines.length - n));
}

export const formatLine = (l: LogLine, timestamps = false): string => `${timestamps ? `${l.time} ` : ''}${l.text}\n`;

/** The bytes of a whole log file as `kubectl logs` shows them with these options. */
export function renderLog(text: string, o: LogOptions = {}): string {
  const asm = new LineAssembler();
  const lines = [...asm.push(text), ...asm.flush()].filter((l) => wanted(l, o));
  const out = tail(lines, o.tailLines)
    .map((l) => formatLine(l, o.timestamps))
    .join('');
  if (o.limitBytes === undefined || Buffer.byteLength(out) <= o.limitBytes) return out;
  return Buffer.from(out).subarray(0, o.limitBytes).toString();
}
