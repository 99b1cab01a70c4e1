// The text form of a log line (`--log-format text`, the default on a terminal): what pino would
// write as JSON, as one readable line: "2026-01-02T03:04:05.678Z INFO  kubelet: message key=value".
// Pure: the JSON object in, the line out.

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, shown in the line's head rather than as key=value */
const HEAD = new Set(['level', 'time', 'msg', 'component', 'name', 'pid', 'hostname']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v && typeof v === 'object' && 'message' in v && 'type' in v) {
    // an error as pino serializes it: its message (and stack on the next lines)
    const e = v as { message?: unknown; stack?: unknown };
    return JSON.stringify(String(e.message ?? ''));
  }
  return JSON.stringify(v) ?? 'undefined';
}

export function textLine(rec: Record<string, unknown>): string {
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString() : String(rec.time ?? '');
  const level = (LEVELS[Number(rec.level)] ?? String(rec.level)).padEnd(5);
  const who = rec.component ?? rec.name;
  const fields = Object.entries(rec)
    .filter(([k]) => !HEAD.has(k))
    .map(([k, v]) => `${k}=${value(v)}`);
  const err = rec.err as { stack?: unknown } | undefined;
  const stack = err && typeof err === 'object' && typeof err.stack === 'string' ? `\n${err.stack}` : '';
  return `${time} ${level} ${who ? `${String(who)}: ` : ''}${String(rec.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}
