// The runner's pure parts, without a cluster: reading ava's TAP (a stream captured from ava 6),
// finding declared titles, building rows (including tests that never reported), rendering the
// report and JUnit, and the command line.
import test from 'ava';
import { parseArgs, reportPath } from './args.ts';
import { avaPrefix, declaredTitles, discover, fileSig, kindOf, selectTitles, sigOf, type SuiteFile } from './discover.ts';
import { cell, renderJunit, renderMarkdown, summaryLine, xml, type RunFacts } from './report.ts';
import { measure } from './measure.ts';
import { parseUpstream } from './upstream.ts';
import { buildRows, bySig, totals, undeclaredRows } from './results.ts';
import { parseTap, reasonFromYaml, type TapLine } from './tap.ts';
import { SUBSETS } from './subsets.ts';
import { endpointsByPod, sameByPod, slicesByPod } from './net.ts';
import { stream } from './fixture.ts';
import { watchUrl } from './watch.ts';

// ava 6 `--tap` output for two files, as captured (see the YAML shapes for t.is, a thrown error and a failed before hook)
const TAP = `TAP version 13
ok 1 - a › [sig-x] skipped # SKIP
ok 2 - a › [sig-x] passes [Conformance]
#   hello
#   world
not ok 3 - a › [sig-x] fails [Conformance]
  ---
    name: AssertionError
    assertion: t.is()
    details:
      'Difference (- actual, + expected):': |-
        - 1
        + 2
    message: one is not two
    at: 'ExecutionContext.is (file:///work/main/node_modules/ava/lib/assert.js:309:16)'
  ...
not ok 4 - a › [sig-x] throws
  ---
    name: AssertionError
    details:
      'Error thrown in test:': |-
        Error {
          message: 'kubectl get x failed (1): error: the server doesn\\'t have a resource type "x"',
        }
    message: Error thrown in test
    at: '<anonymous> (/work/main/test/conformance/tmpx/a.test.ts:4:45)'
  ...
# b › before hook
not ok 5 - b › before hook
  ---
    name: AssertionError
    details:
      'Error thrown in test:': |-
        Error {
          message: 'no cluster here',
        }
    message: Error thrown in test
    at: '<anonymous> (/work/main/test/conformance/tmpx/b.test.ts:2:27)'
  ...
# 1 test remaining in test/e2e/b.test.ts

1..5
# tests 5
# pass 1
# skip 1
# fail 3
`;

const stamped = (text: string, start = 1000, step = 100): TapLine[] => text.split('\n').map((t, i) => ({ at: start + i * step, text: t }));

const files: SuiteFile[] = [
  {
    path: 'test/e2e/a.test.ts',
    prefix: 'a',
    sig: 'sig-x',
    titles: ['[sig-x] skipped', '[sig-x] passes [Conformance]', '[sig-x] fails [Conformance]', '[sig-x] throws', '[sig-x] never reported'],
  },
  { path: 'test/e2e/b.test.ts', prefix: 'b', sig: 'sig-y', titles: ['[sig-y] never runs'] },
];

test('parseTap: statuses, logs, times from arrival gaps, remaining counts', (t) => {
  const run = parseTap(stamped(TAP), 1000);
  t.deepEqual(
    run.results.map((r) => [r.title, r.status]),
    [
      ['a › [sig-x] skipped', 'skipped'],
      ['a › [sig-x] passes [Conformance]', 'passed'],
      ['a › [sig-x] fails [Conformance]', 'failed'],
      ['a › [sig-x] throws', 'failed'],
      ['b › before hook', 'failed'],
    ],
  );
  t.is(run.results[0].ms, 0, 'a skip takes no time');
  t.is(run.results[1].ms, 200, 'line 2 arrives 200 ms after the start');
  t.deepEqual(run.results[1].logs, ['hello', 'world']);
  t.is(run.results[4].ms, 100, 'a hook comment line restarts the clock');
  t.deepEqual(run.remaining, { 'test/e2e/b.test.ts': 1 });
});

test('reasonFromYaml: a thrown error gives its own message; an assertion gives message, assertion and values', (t) => {
  const run = parseTap(stamped(TAP));
  t.is(run.results[3].reason, 'kubectl get x failed (1): error: the server doesn\'t have a resource type "x"');
  t.is(run.results[2].reason, 'one is not two — t.is() — Difference (- actual, + expected): - 1 + 2');
  t.is(reasonFromYaml('name: X\nmessage: plain'), 'plain');
  t.is(reasonFromYaml(': : not yaml ['), ': : not yaml [');
});

test('buildRows: file prefixes resolved, hook failures and unreported tests become failing rows with reasons', (t) => {
  const rows = buildRows(files, parseTap(stamped(TAP)));
  const row = (title: string) => rows.find((r) => r.title === title)!;
  t.is(row('[sig-x] passes [Conformance]').file, 'test/e2e/a.test.ts');
  t.is(row('[sig-x] passes [Conformance]').kind, 'conformance');
  t.is(row('[sig-x] throws').kind, 'upstream');
  t.is(row('before hook (test/e2e/b.test.ts)').kind, 'hook');
  t.is(row('[sig-y] never runs').reason, 'not run: before hook failed: no cluster here');
  t.is(row('[sig-y] never runs').status, 'failed');
  t.is(row('[sig-x] never reported').reason, 'not run: never reported a result');
  t.deepEqual(totals(rows), { total: 7, passed: 1, failed: 5, skipped: 1 });
  t.deepEqual(
    bySig(rows).map(([s, x]) => [s, x.total]),
    [
      ['sig-x', 5],
      ['sig-y', 2],
    ],
  );
});

test('buildRows: crash lines are failing rows attributed to the file they name', (t) => {
  const rows = buildRows(files, parseTap(stamped('not ok 1 - test/e2e/b.test.ts exited with a non-zero exit code: 1\nnot ok 2 - TypeError: x is undefined')));
  t.deepEqual(
    rows.slice(0, 2).map((r) => [r.sig, r.kind, r.file, r.status]),
    [
      ['sig-y', 'hook', 'test/e2e/b.test.ts', 'failed'],
      ['—', 'hook', '?', 'failed'],
    ],
  );
});

test('undeclaredRows: a subset title no file declares is a failing row', (t) => {
  const rows = undeclaredRows(['[sig-x] passes [Conformance]', '[sig-z] renamed away [Conformance]'], files);
  t.deepEqual(
    rows.map((r) => [r.title, r.sig, r.status]),
    [['[sig-z] renamed away [Conformance]', 'sig-z', 'failed']],
  );
  t.regex(rows[0].reason!, /no test file declares it/);
});

test('buildRows: a selection leaves unselected declared titles out', (t) => {
  const rows = buildRows([files[0]], parseTap(stamped('ok 1 - [sig-x] passes [Conformance]')), new Set(['[sig-x] passes [Conformance]']));
  t.deepEqual(
    rows.map((r) => [r.title, r.status, r.file]),
    [['[sig-x] passes [Conformance]', 'passed', 'test/e2e/a.test.ts']],
  );
});

test('declaredTitles: string literals opening a call and starting with [sig-, escapes undone', (t) => {
  const src = `
it('[sig-cli] Kubectl client Kubectl replace should update a single-container pod\\'s image [Conformance]', async (t, c) => {});
e2e("[sig-network] DNS should provide DNS for the cluster [Conformance]", (t) => {});
test.serial(\`[sig-node] Pods \${x} templated\`, () => {});
test('a hawser check without a SIG', () => {});
const list = ['[sig-not] a title in a list'];
t.is(x, '[sig-x] an assertion message', 'msg');`;
  t.deepEqual(declaredTitles(src), [
    "[sig-cli] Kubectl client Kubectl replace should update a single-container pod's image [Conformance]",
    '[sig-network] DNS should provide DNS for the cluster [Conformance]',
  ]);
});

test('SIG and kind from titles and file names', (t) => {
  t.is(fileSig('network-pods.test.ts'), 'sig-network');
  t.is(fileSig('api-machinery-watch.test.ts'), 'sig-api-machinery');
  t.is(fileSig('api-crud.test.ts'), 'sig-api-machinery');
  t.is(fileSig('dns.test.ts'), 'sig-network');
  t.is(fileSig('node-probes.test.ts'), 'sig-node');
  t.is(fileSig('instrumentation-events.test.ts'), 'sig-instrumentation');
  t.is(fileSig('walking-skeleton.test.ts'), undefined, 'not a SIG file: not in the suite');
  t.is(avaPrefix('network-pods.test.ts'), 'network-pods');
  t.is(sigOf('[sig-storage] ConfigMap should be immutable', 'sig-api-machinery'), 'sig-storage');
  t.is(sigOf('a deleted Service stops resolving', 'sig-network'), 'sig-network');
  t.is(kindOf('[sig-cli] Kubectl logs logs should be able to retrieve and filter logs [Conformance]'), 'conformance');
  t.is(kindOf('[sig-cli] Kubectl client Simple pod should support exec'), 'upstream');
  t.is(kindOf('[sig-cli] [hawser] kubectl explain describes resources'), 'hawser');
  t.is(kindOf('1,000 queries from a pod are answered with no loss'), 'hawser');
});

test('selectTitles: focus and subset intersect; neither means everything', (t) => {
  t.is(selectTitles(files, {}), undefined);
  t.deepEqual([...selectTitles(files, { focus: /Conformance/ })!], ['[sig-x] passes [Conformance]', '[sig-x] fails [Conformance]']);
  t.deepEqual(
    [...selectTitles(files, { focus: /Conformance/, subset: new Set(['[sig-x] fails [Conformance]', '[sig-y] never runs']) })!],
    ['[sig-x] fails [Conformance]'],
  );
});

test("each subset names only titles that the suite's files declare, once each", (t) => {
  const declared = new Set(discover().flatMap((f) => f.titles));
  for (const [name, titles] of Object.entries(SUBSETS)) {
    t.deepEqual(
      titles.filter((x, i) => titles.indexOf(x) !== i),
      [],
      `${name}: duplicates`,
    );
    t.deepEqual(
      titles.filter((x) => !declared.has(x)),
      [],
      `${name}: renamed or removed tests`,
    );
  }
});

const facts: RunFacts = {
  date: '2026-11-23T10:00:00.000Z',
  cluster: 'netns lab `conf` (2 workers), 2 nodes',
  server: 'v1.35.0-hawser',
  kubectl: 'v1.35.2',
  commit: 'abc1234',
  durationMs: 75_000,
};

// a small upstream list: two of its tests are mirrored by the TAP fixture's file a, one is not
const LIST = parseUpstream(
  [
    '# comment',
    'sig\trelease\tfile\tcodename',
    'sig-x\tv1.9\ttest/e2e/x/a.go\t[sig-x] passes [Conformance]',
    'sig-x\tv1.9\ttest/e2e/x/a.go\t[sig-x] fails [Conformance]',
    'sig-y\tv1.30\ttest/e2e/apimachinery/webhook.go\t[sig-y] AdmissionWebhook should be able to deny attaching pod [Conformance]',
  ].join('\n'),
  'v9.99',
);

test("renderMarkdown: headline against the whole list, states per SIG, capabilities, the suite's other rows escaped", (t) => {
  const rows = buildRows(files, parseTap(stamped(TAP)));
  rows.push({ title: '[sig-x] pipe | in title', sig: 'sig-x', kind: 'upstream', file: 'f', status: 'failed', ms: 61_000, reason: 'line one\nline | two' });
  const m = measure(
    rows,
    LIST,
    files.flatMap((f) => f.titles),
    false,
  );
  const md = renderMarkdown(rows, facts, m);
  t.regex(md, /^# hawser conformance report$/m);
  t.regex(
    md,
    /^\*\*1 of 3 upstream conformance tests pass \(Kubernetes v9\.99 list\): 1 mirrored and passing, 1 mirrored and failing, 1 not mirrored yet\.\*\*$/m,
  );
  t.regex(summaryLine(rows, m), /^8 tests: 1 passed, 6 failed, 1 skipped \(upstream conformance: 1 of 3 v9\.99 tests pass, 2 mirrored\)$/);
  t.true(md.includes(`This run: ${summaryLine(rows)}.`));
  t.regex(md, /^\| sig-x \| 2 \| 1 \| 1 \| 0 \|$/m);
  t.regex(md, /^\| sig-y \| 1 \| 0 \| 0 \| 1 \|$/m);
  t.regex(md, /^\| \*\*all\*\* \| 3 \| 1 \| 1 \| 1 \|$/m);
  t.regex(md, /^\| mirrored: CONNECT admission \(webhooks on pods\/attach\) \| 1 \| sig-y \|$/m);
  t.regex(
    md,
    /^\| \[sig-y\] AdmissionWebhook should be able to deny attaching pod \[Conformance\] \| sig-y \| v1\.30 \| ➖ not mirrored \|  \| mirrored: CONNECT admission \(webhooks on pods\/attach\) \|$/m,
  );
  t.regex(md, /^\| \[sig-x\] fails \[Conformance\] \| sig-x \| v1\.9 \| ❌ fail \| [\d.]+ s \| one is not two/m);
  // the suite's other rows: everything but the listed conformance tests, as before
  t.regex(md, /^\| \[sig-x\] pipe \\\| in title \| sig-x \| ❌ fail \| 1 min 1 s \| line one line \\\| two \|$/m);
  t.regex(md, /2026-11-23 10:00:00 UTC against netns lab `conf`/);
  t.is(md.split('\n').filter((l) => l.startsWith('| [sig-') || l.startsWith('| before')).length, rows.length - 2 + LIST.tests.length);
  t.false(md.includes('Not on the upstream'));
});

test('renderMarkdown: a partial run says what it ran and does not claim the whole list', (t) => {
  const rows = buildRows([files[0]], parseTap(stamped('ok 1 - [sig-x] passes [Conformance]')), new Set(['[sig-x] passes [Conformance]']));
  const m = measure(
    rows,
    LIST,
    files.flatMap((f) => f.titles),
    true,
  );
  const md = renderMarkdown(rows, { ...facts, selection: '--focus passes' }, m);
  t.regex(
    md,
    /^\*\*Partial run \(--focus passes\): 1 of 1 selected upstream conformance tests pass\. Not a measure of the v9\.99 list: the suite mirrors 2 of its 3 tests/m,
  );
  t.notRegex(md, /of 3 upstream conformance tests pass/);
  t.regex(summaryLine(rows, m), /\(upstream conformance: 1 of 1 selected pass\)$/);
  t.regex(md, /^\| SIG \| upstream tests \| mirrored, passing \| mirrored, failing \| mirrored, not run \| not mirrored yet \|$/m);
  t.regex(md, /^\| \[sig-x\] fails \[Conformance\] \| sig-x \| v1\.9 \| ⏸️ not run \|  \| not selected in this run \|$/m);
  t.regex(md, /^## The suite's other tests\n\n.*\n\nNone in this run\.$/m);
});

test('measure: a [Conformance] title not on the list is named in the report, never counted', (t) => {
  const rows = buildRows(files, parseTap(stamped('ok 1 - a › [sig-x] passes [Conformance]\nok 2 - b › [sig-y] renamed [Conformance]')));
  const m = measure(rows, LIST, ['[sig-x] passes [Conformance]'], false);
  t.deepEqual(
    m.unlisted.map((r) => r.title),
    ['[sig-y] renamed [Conformance]'],
  );
  t.regex(
    renderMarkdown(rows, facts, m),
    /Not on the upstream v9\.99 list although they claim `\[Conformance\]` \(rename them to the exact upstream name\): `\[sig-y\] renamed \[Conformance\]`/,
  );
});

test('renderJunit: suites per SIG, failures carry the reason, XML is escaped', (t) => {
  const rows = buildRows(files, parseTap(stamped(TAP)));
  const x = renderJunit(rows, facts);
  t.regex(x, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
  t.regex(x, /<testsuites name="hawser conformance" tests="7" failures="5" skipped="1" time="75.000"/);
  t.regex(x, /<testsuite name="sig-y" tests="2" failures="2" skipped="0"/);
  t.regex(
    x,
    /<testcase classname="sig-x" name="\[sig-x\] throws" file="test\/e2e\/a.test.ts" time="[\d.]+"><failure message="kubectl get x failed \(1\): error: the server doesn&apos;t have a resource type &quot;x&quot;"/,
  );
  t.regex(x, /<testcase classname="sig-x" name="\[sig-x\] skipped" [^>]*><skipped\/><\/testcase>/);
  t.is(xml('a<b>&"\u001b[31m'), 'a&lt;b&gt;&amp;&quot;[31m');
  t.is((x.match(/<testcase /g) ?? []).length, rows.length);
});

test('cell: one line, bounded', (t) => {
  t.is(cell('a\n  b|c'), 'a b\\|c');
  t.is(cell('x'.repeat(500), 10), `${'x'.repeat(9)}…`);
  t.is(cell(undefined), '');
});

test('parseArgs: flags, --flag=value, KUBECONFIG default, errors name the problem', (t) => {
  t.deepEqual(parseArgs([]), { keepLab: false, help: false, kubeconfig: undefined });
  t.is(parseArgs([], { KUBECONFIG: '/k' }).kubeconfig, '/k');
  const o = parseArgs(['--kubeconfig', '/x', '--focus=Services .*affinity', '--subset', 'core', '--keep-lab']);
  t.is(o.kubeconfig, '/x');
  t.true(o.focus!.test('Services should have session affinity work'));
  t.is(o.subset, 'core');
  t.true(o.keepLab);
  t.throws(() => parseArgs(['--focus']), { message: /--focus needs a value/ });
  t.throws(() => parseArgs(['--focus', '(']), { message: /--focus: Invalid regular expression/ });
  t.throws(() => parseArgs(['--nope']), { message: /unknown argument "--nope"/ });
  t.is(reportPath(parseArgs([])), 'docs/conformance/REPORT.md');
  t.is(reportPath(parseArgs(['--subset', 'core'])), '.build/conformance/REPORT.md', 'a partial run never overwrites the committed report');
  t.is(reportPath(parseArgs(['--focus', 'x', '--report', 'r.md'])), 'r.md');
});

test('endpoint views: Endpoints and EndpointSlices read the same way, readiness split', (t) => {
  const ep = {
    subsets: [
      {
        addresses: [{ ip: '10.244.0.5', targetRef: { name: 'pod1' } }],
        notReadyAddresses: [{ ip: '10.244.1.9', targetRef: { name: 'pod2' } }],
        ports: [{ name: 'http', port: 8080 }],
      },
      { addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 443 }] },
    ],
  };
  t.deepEqual(endpointsByPod(ep), { pod1: ['http:8080'], '10.0.0.1': [':443'] });
  t.deepEqual(endpointsByPod(ep, 'notReadyAddresses'), { pod2: ['http:8080'] });
  t.deepEqual(endpointsByPod(undefined), {});
  const slices = [
    {
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { addresses: ['10.244.0.5'], conditions: { ready: true }, targetRef: { name: 'pod1' } },
        { addresses: ['10.244.1.9'], conditions: { ready: false }, targetRef: { name: 'pod2' } },
      ],
    },
  ];
  t.deepEqual(slicesByPod(slices), { pod1: ['http:8080'] });
  t.deepEqual(slicesByPod(slices, false), { pod2: ['http:8080'] });
  t.true(sameByPod({ b: ['1'], a: ['2'] }, { a: ['2'], b: ['1'] }));
  t.false(sameByPod({ a: ['1'] }, { a: ['1'], b: [] }));
});

test('stream and watchUrl: what kubectl is handed', (t) => {
  t.is(stream([{ a: 1 }, { b: 2 }]), '{"a":1}\n---\n{"b":2}');
  t.is(
    watchUrl('/api/v1/namespaces/n/configmaps', { labelSelector: 'k in (a,b)', resourceVersion: '12', x: undefined }),
    '/api/v1/namespaces/n/configmaps?watch=1&labelSelector=k+in+%28a%2Cb%29&resourceVersion=12',
  );
});
