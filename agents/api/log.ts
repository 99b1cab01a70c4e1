// One structured logger per component. pino writes JSON lines to stderr so that stdout stays free
// for protocol output (the CNI plugins print their result on stdout). When stderr is the journal
// each line starts with its syslog priority ("<4>{...}"), as journald expects (journal-levels.ts).
import pino from 'pino';
import { stderrIsJournal, syslogPriority } from './journal-levels.ts';

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
  write(line: string): void { this.dest.write(`<${syslogPriority(this.lastLevel)}>${line}`); }
  flush(cb?: (err?: Error) => void): void { this.dest.flush(cb); }
}

const journal = stderrIsJournal();

export function logger(component: string, level = process.env.HAWSER_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: component, level, base: { component } }, journal ? new JournalDestination() : pino.destination(2));
}
