// Log levels journald understands. Under systemd, stderr is a journal stream (systemd sets
// JOURNAL_STREAM to its device:inode) and journald reads a leading "<N>" as the line's syslog
// priority (SyslogLevelPrefix=yes, the default), so `journalctl -p warning -u hawser-agent` shows
// only warnings and errors. The JSON after the prefix is unchanged.
import { fstatSync } from 'node:fs';

/** pino's numeric level -> syslog priority: fatal crit(2), error err(3), warn warning(4), info info(6), debug/trace debug(7). */
export function syslogPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

/** JOURNAL_STREAM names the stream systemd connected ("dev:ino"); it is inherited, so compare with the fd itself. */
export function isJournalStream(journalStream: string | undefined, fd: { dev: number; ino: number }): boolean {
  const m = /^(\d+):(\d+)$/.exec(journalStream ?? '');
  return !!m && Number(m[1]) === fd.dev && Number(m[2]) === fd.ino;
}

/** Whether this process's stderr goes to the journal. */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!env.JOURNAL_STREAM) return false;
  try {
    return isJournalStream(env.JOURNAL_STREAM, fstatSync(2));
  } catch {
    return false;
  }
}
