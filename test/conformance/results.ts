// Rows of the report: every test that reported, and every declared test that did not (with the
// reason it did not run), each with its SIG, kind, result, time and failure reason.
import { kindOf, sigOf, type Kind, type SuiteFile } from './discover.ts';
import type { TapRun } from './tap.ts';

export type Status = 'passed' | 'failed' | 'skipped';

export interface Row {
  title: string;
  sig: string;
  kind: Kind | 'hook';
  file: string;
  status: Status;
  ms: number;
  reason?: string;
}

const SEP = ' › ';

/** Splits ava's "prefix › title" into the file and the title (one file: no prefix). */
function locate(full: string, files: SuiteFile[]): { file?: SuiteFile; title: string } {
  if (files.length === 1) return { file: files[0], title: full };
  const i = full.indexOf(SEP);
  if (i > 0) {
    const file = files.find((f) => f.prefix === full.slice(0, i));
    if (file) return { file, title: full.slice(i + SEP.length) };
  }
  return { title: full };
}

const isHook = (title: string) => /^(before|after|beforeEach|afterEach)(\.always)? hook\b/.test(title);

export function buildRows(files: SuiteFile[], run: TapRun, selected?: Set<string>): Row[] {
  const rows: Row[] = [];
  const reported = new Set<string>();
  const hookFailure = new Map<string, string>();
  for (const r of run.results) {
    const located = locate(r.title, files);
    const { title } = located;
    // a crash line ("test/e2e/x.test.ts exited with a non-zero exit code") names its file in the text
    const file = located.file ?? files.find((f) => title.includes(f.path));
    const path = file?.path ?? '?';
    const status: Status = r.status === 'todo' ? 'skipped' : r.status;
    if (!located.file) {
      rows.push({ title, sig: file?.sig ?? '—', kind: 'hook', file: path, status, ms: r.ms, reason: status === 'failed' ? (r.reason ?? title) : undefined });
      continue;
    }
    if (isHook(title)) {
      if (status !== 'failed') continue;
      hookFailure.set(path, `${title} failed: ${r.reason ?? 'no reason given'}`);
      rows.push({ title: `${title} (${path})`, sig: file?.sig ?? '—', kind: 'hook', file: path, status, ms: r.ms, reason: r.reason });
      continue;
    }
    reported.add(`${path}\n${title}`);
    rows.push({
      title,
      sig: sigOf(title, file?.sig ?? '—'),
      kind: kindOf(title),
      file: path,
      status,
      ms: r.ms,
      reason: status === 'failed' ? (r.reason ?? 'failed') : undefined,
    });
  }
  for (const f of files) {
    for (const title of f.titles) {
      if (selected && !selected.has(title)) continue;
      if (reported.has(`${f.path}\n${title}`)) continue;
      reported.add(`${f.path}\n${title}`);
      const why = hookFailure.get(f.path) ?? (run.remaining[f.path] ? 'did not finish: the run timed out or the test file crashed' : 'never reported a result');
      rows.push({ title, sig: sigOf(title, f.sig), kind: kindOf(title), file: f.path, status: 'failed', ms: 0, reason: `not run: ${why}` });
    }
  }
  return rows;
}

/** A subset names a test no file declares (renamed, removed): a failing row, not a smaller subset. */
export function undeclaredRows(wanted: Iterable<string>, files: SuiteFile[]): Row[] {
  const declared = new Set(files.flatMap((f) => f.titles));
  return [...wanted]
    .filter((t) => !declared.has(t))
    .map((title) => ({
      title,
      sig: sigOf(title, '—'),
      kind: kindOf(title),
      file: '?',
      status: 'failed' as const,
      ms: 0,
      reason: 'not found: the subset names it, but no test file declares it (renamed or removed?)',
    }));
}

export interface Totals {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
}

export function totals(rows: Row[]): Totals {
  const t = { total: rows.length, passed: 0, failed: 0, skipped: 0 };
  for (const r of rows) t[r.status]++;
  return t;
}

/** Totals per SIG, SIGs in name order. */
export function bySig(rows: Row[]): [string, Totals][] {
  const m = new Map<string, Row[]>();
  for (const r of rows) m.set(r.sig, [...(m.get(r.sig) ?? []), r]);
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, rs]) => [s, totals(rs)]);
}
