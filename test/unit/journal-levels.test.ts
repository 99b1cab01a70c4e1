// journald priorities for pino levels, and telling the journal stream from an inherited variable.
import test from 'ava';
import { isJournalStream, syslogPriority } from '../../agents/api/journal-levels.ts';

test('pino levels map to syslog priorities: fatal crit, error err, warn warning, info info, debug and trace debug', (t) => {
  t.deepEqual([60, 50, 40, 30, 20, 10].map(syslogPriority), [2, 3, 4, 6, 7, 7]);
});

test('JOURNAL_STREAM counts only when it names this very fd', (t) => {
  t.true(isJournalStream('8:12345', { dev: 8, ino: 12345 }));
  t.false(isJournalStream('8:12345', { dev: 8, ino: 99 })); // inherited, stderr redirected since
  t.false(isJournalStream(undefined, { dev: 8, ino: 12345 }));
  t.false(isJournalStream('garbage', { dev: 8, ino: 12345 }));
});
