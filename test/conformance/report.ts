// The two outputs of a run: a Markdown report for people (the run measured against the whole
// upstream conformance list: a headline, states per SIG, what the unmirrored tests wait for, one row
// per upstream test; then the suite's other tests) and JUnit XML for CI. Pure: rows, the measure
// and run facts in, text out.
import { byCapability } from './capabilities.ts';
import { conformanceNote, counts, countsBySig, headline, type Measure, type UpstreamRow } from './measure.ts';
import { bySig, totals, type Row } from './results.ts';

export interface RunFacts {
  date: string; // ISO time the run started
  cluster: string; // e.g. "netns lab conf (2 nodes)"
  server: string; // server gitVersion
  kubectl: string; // client gitVersion
  commit: string; // e.g. "680b4b8 (with uncommitted changes)"
  durationMs: number;
  selection?: string; // "--subset core", "--focus ..." when not the whole suite
}

export const seconds = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

const RESULT: Record<Row['status'], string> = { passed: '✅ pass', failed: '❌ fail', skipped: '⏭️ skip' };

/** A reason fit for one table cell: one line, pipes escaped, bounded. */
export function cell(s: string | undefined, max = 400): string {
  if (!s) return '';
  const one = s
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

const order = (a: Row, b: Row) => a.sig.localeCompare(b.sig) || a.title.localeCompare(b.title) || a.file.localeCompare(b.file);

/** The run's totals line; with a measure, how the upstream conformance list fared. */
export function summaryLine(rows: Row[], m?: Measure): string {
  const t = totals(rows);
  return `${t.total} tests: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped${m ? ` (${conformanceNote(m)})` : ''}`;
}

const STATE: Record<UpstreamRow['state'], string> = { pass: '✅ pass', fail: '❌ fail', 'not run': '⏸️ not run', 'not mirrored': '➖ not mirrored' };

function stateCell(u: UpstreamRow): string {
  return u.row?.status === 'skipped' ? '⏭️ skip' : STATE[u.state];
}

function upstreamSection(m: Measure): string[] {
  const out: string[] = [];
  const all = counts(m.upstream);
  const notRun = m.partial ? ' | mirrored, not run' : '';
  const notRunAlign = m.partial ? ' | ---:' : '';
  out.push(`## Upstream conformance tests (Kubernetes ${m.release})`, '');
  out.push(
    `Every test on the upstream ${m.release} conformance list ([test/conformance/upstream/](../../test/conformance/upstream/)), by the SIG that owns it. A test is mirrored when a suite test carries its exact name.`,
    '',
  );
  out.push(`| SIG | upstream tests | mirrored, passing | mirrored, failing${notRun} | not mirrored yet |`, `| --- | ---: | ---: | ---:${notRunAlign} | ---: |`);
  const line = (name: string, c: typeof all) => `| ${name} | ${c.total} | ${c.pass} | ${c.fail}${m.partial ? ` | ${c.notRun}` : ''} | ${c.notMirrored} |`;
  for (const [sig, c] of countsBySig(m.upstream)) out.push(line(sig, c));
  out.push(line('**all**', all), '');
  const waiting = m.upstream.filter((u) => u.state === 'not mirrored').map((u) => u.test);
  out.push(`### What the ${waiting.length} tests not mirrored yet need`, '');
  out.push(
    'Assigned by the rule table in [test/conformance/capabilities.ts](../../test/conformance/capabilities.ts): "needs X" is a capability hawser lacks; "test only: X" is one its code has, waiting for a mirrored test.',
    '',
  );
  out.push('| capability | tests | SIGs |', '| --- | ---: | --- |');
  for (const c of byCapability(waiting)) out.push(`| ${c.capability} | ${c.count} | ${c.sigs.join(', ')} |`);
  out.push('');
  out.push(`### Every upstream conformance test`, '');
  out.push('| Test | SIG | Since | State | Time | Reason, or what it needs |', '| --- | --- | --- | --- | ---: | --- |');
  const sorted = [...m.upstream].sort((a, b) => a.test.sig.localeCompare(b.test.sig) || a.test.codename.localeCompare(b.test.codename));
  for (const u of sorted) {
    const why = u.capability ?? (u.state === 'not run' ? 'not selected in this run' : cell(u.row?.reason));
    out.push(`| ${cell(u.test.codename, 1000)} | ${u.test.sig} | ${u.test.release} | ${stateCell(u)} | ${u.row ? seconds(u.row.ms) : ''} | ${why} |`);
  }
  out.push('');
  return out;
}

function rowsSection(rows: Row[]): string[] {
  if (!rows.length) return ['None in this run.', ''];
  const out: string[] = [];
  out.push('| SIG | tests | passed | failed | skipped |', '| --- | ---: | ---: | ---: | ---: |');
  for (const [sig, t] of bySig(rows)) out.push(`| ${sig} | ${t.total} | ${t.passed} | ${t.failed} | ${t.skipped} |`);
  out.push('');
  out.push('| Test | SIG | Result | Time | Reason |', '| --- | --- | --- | ---: | --- |');
  for (const r of [...rows].sort(order)) out.push(`| ${cell(r.title, 1000)} | ${r.sig} | ${RESULT[r.status]} | ${seconds(r.ms)} | ${cell(r.reason)} |`);
  out.push('');
  return out;
}

export function renderMarkdown(rows: Row[], f: RunFacts, m: Measure): string {
  const out: string[] = [];
  out.push('# hawser conformance report', '');
  out.push('Generated by `make conformance` (`test/conformance/run.ts`); regenerate it, do not edit it by hand.', '');
  out.push(`**${headline(m, f.selection)}**`, '');
  out.push(
    `Run ${f.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} against ${f.cluster}: server ${f.server}, kubectl ${f.kubectl}, commit ${f.commit}, ${seconds(f.durationMs)}${f.selection ? `, selection ${f.selection}` : ''}. This run: ${summaryLine(rows)}.`,
    '',
  );
  out.push(
    'Test names are the upstream Kubernetes e2e test names they mirror; `[Conformance]` marks upstream conformance tests, `[hawser]` marks checks with no upstream counterpart. How the suite is built and run: [test/conformance/README.md](../../test/conformance/README.md).',
    '',
  );
  out.push(...upstreamSection(m));
  out.push("## The suite's other tests", '');
  out.push("Upstream e2e tests outside the conformance list, hawser's own checks (`[hawser]`, or no SIG), and failures outside any test (hooks, crashes).", '');
  if (m.unlisted.length)
    out.push(
      `Not on the upstream ${m.release} list although they claim \`[Conformance]\` (rename them to the exact upstream name): ${m.unlisted.map((r) => `\`${r.title}\``).join(', ')}.`,
      '',
    );
  out.push(...rowsSection(m.other));
  return out.join('\n');
}

export const xml = (s: string): string =>
  s
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // characters XML 1.0 cannot carry at all (terminal escapes from command output)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function renderJunit(rows: Row[], f: RunFacts): string {
  const t = totals(rows);
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="hawser conformance" tests="${t.total}" failures="${t.failed}" skipped="${t.skipped}" time="${(f.durationMs / 1000).toFixed(3)}" timestamp="${f.date}">`,
  ];
  for (const [sig] of bySig(rows)) {
    const rs = rows.filter((r) => r.sig === sig).sort(order);
    const st = totals(rs);
    const time = rs.reduce((a, r) => a + r.ms, 0) / 1000;
    out.push(`  <testsuite name="${xml(sig)}" tests="${st.total}" failures="${st.failed}" skipped="${st.skipped}" time="${time.toFixed(3)}">`);
    for (const r of rs) {
      const head = `    <testcase classname="${xml(sig)}" name="${xml(r.title)}" file="${xml(r.file)}" time="${(r.ms / 1000).toFixed(3)}"`;
      if (r.status === 'passed') out.push(`${head}/>`);
      else if (r.status === 'skipped') out.push(`${head}><skipped/></testcase>`);
      else out.push(`${head}><failure message="${xml(cell(r.reason, 1000))}" type="failure">${xml(r.reason ?? '')}</failure></testcase>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}
