// One structured logger per component. pino writes JSON lines to stderr so that stdout stays free
// for protocol output (the CNI plugins print their result on stdout). When stderr is the journal
// each line starts with its syslog priority ("<4>{...}"), as journald expects (journal-levels.ts).
// HAWSER_LOG_LEVEL and HAWSER_LOG_FORMAT (set from every component's -v/--log-level and --log-format,
// agents/cli/log-flags.ts) choose the level and text or JSON lines.
import pino from 'pino';
import { stderrIsJournal, syslogPriority } from './journal-levels.ts';
import { textLine } from './log-text.ts';

export type Logger = pino.Logger;

/** pino's stderr destination, each line prefixed with "<priority>" (pino sets lastLevel before each write). */
class JournalDestination {
  readonly [pino.symbols.needsMetadataGsym] = true as const;
  lastLevel = 30;
  lastTime = '';
  lastMsg = '';
  lastObj: object = {};
  lastLogger!: pino.Logger;
  private readonly dest = pino.destination(2);
  write(line: string): void {
    this.dest.write(`<${syslogPriority(this.lastLevel)}>${line}`);
  }
  flush(cb?: (err?: Error) => void): void {
    this.dest.flush(cb);
  }
}

/** --log-format text: each JSON line pino makes, written as one readable line (log-text.ts). */
class TextDestination {
  private readonly dest = pino.destination(2);
  write(line: string): void {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.dest.write(line);
      return;
    }
    this.dest.write(textLine(rec));
  }
  flush(cb?: (err?: Error) => void): void {
    this.dest.flush(cb);
  }
}

const journal = stderrIsJournal();

export function logger(component: string, level = process.env.HAWSER_LOG_LEVEL ?? 'info'): Logger {
  const text = process.env.HAWSER_LOG_FORMAT === 'text';
  return pino({ name: component, level, base: { component } }, text ? new TextDestination() : journal ? new JournalDestination() : pino.destination(2));
}
