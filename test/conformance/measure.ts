// A run measured against the upstream conformance list: every upstream test gets a state (mirrored
// and passing, mirrored and failing, mirrored but not run by a partial run, not mirrored yet with the
// capability it waits for), counted overall and per SIG. The suite's other rows (upstream e2e tests
// outside the list, hawser's own checks, hooks) are kept apart. Pure: rows and the list in.
import { capabilityOf } from './capabilities.ts';
import type { Row } from './results.ts';
import type { UpstreamList, UpstreamTest } from './upstream.ts';

export type UpstreamState = 'pass' | 'fail' | 'not run' | 'not mirrored';

export interface UpstreamRow {
  test: UpstreamTest;
  state: UpstreamState;
  /** the run's row, when the test ran */
  row?: Row;
  /** for a test not mirrored yet: what it waits for */
  capability?: string;
}

export interface StateCounts {
  total: number;
  pass: number;
  fail: number;
  notRun: number;
  notMirrored: number;
}

export interface Measure {
  release: string;
  /** a --focus or --subset run: the list was not measured as a whole */
  partial: boolean;
  upstream: UpstreamRow[];
  /** rows that are not upstream conformance tests on the list */
  other: Row[];
  /** rows claiming "[Conformance]" whose title is not on the list (the name check should prevent these) */
  unlisted: Row[];
}

export function measure(rows: Row[], list: UpstreamList, mirrored: Iterable<string>, partial: boolean): Measure {
  const byTitle = new Map<string, Row>();
  for (const r of rows) if (r.kind === 'conformance' && !byTitle.has(r.title)) byTitle.set(r.title, r);
  const declared = new Set(mirrored);
  const listed = new Set(list.tests.map((t) => t.codename));
  const upstream = list.tests.map((test): UpstreamRow => {
    const row = byTitle.get(test.codename);
    if (row) return { test, row, state: row.status === 'passed' ? 'pass' : 'fail' };
    if (declared.has(test.codename)) return { test, state: 'not run' };
    return { test, state: 'not mirrored', capability: capabilityOf(test) };
  });
  const other = rows.filter((r) => !(r.kind === 'conformance' && listed.has(r.title)));
  return { release: list.release, partial, upstream, other, unlisted: other.filter((r) => r.kind === 'conformance') };
}

export function counts(us: UpstreamRow[]): StateCounts {
  const c = { total: us.length, pass: 0, fail: 0, notRun: 0, notMirrored: 0 };
  for (const u of us) {
    if (u.state === 'pass') c.pass++;
    else if (u.state === 'fail') c.fail++;
    else if (u.state === 'not run') c.notRun++;
    else c.notMirrored++;
  }
  return c;
}

/** Counts per SIG, SIGs in name order. */
export function countsBySig(us: UpstreamRow[]): [string, StateCounts][] {
  const m = new Map<string, UpstreamRow[]>();
  for (const u of us) m.set(u.test.sig, [...(m.get(u.test.sig) ?? []), u]);
  return [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, x]) => [s, counts(x)]);
}

/**
 * The one-line verdict. A whole-suite run: "N of M upstream conformance tests pass" with M the whole
 * list. A partial run says what it measured and does not put the list's size in as if measured.
 */
export function headline(m: Measure, selection?: string): string {
  const c = counts(m.upstream);
  const mirrored = c.total - c.notMirrored;
  if (m.partial) {
    const ran = c.pass + c.fail;
    return (
      `Partial run (${selection ?? 'a selection'}): ${c.pass} of ${ran} selected upstream conformance tests pass. ` +
      `Not a measure of the ${m.release} list: the suite mirrors ${mirrored} of its ${c.total} tests, and only a whole-suite run (\`make conformance\`) measures them.`
    );
  }
  return (
    `${c.pass} of ${c.total} upstream conformance tests pass (Kubernetes ${m.release} list): ` +
    `${c.pass} mirrored and passing, ${c.fail} mirrored and failing, ${c.notMirrored} not mirrored yet.`
  );
}

/** The parenthesis of the runner's totals line (kept free of "passed,"/"failed," for test/run.sh). */
export function conformanceNote(m: Measure): string {
  const c = counts(m.upstream);
  return m.partial
    ? `upstream conformance: ${c.pass} of ${c.pass + c.fail} selected pass`
    : `upstream conformance: ${c.pass} of ${c.total} ${m.release} tests pass, ${c.total - c.notMirrored} mirrored`;
}
