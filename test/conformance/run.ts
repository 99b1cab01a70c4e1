// The conformance-style suite runner: picks the SIG-named e2e files, provides a cluster (a
// kubeconfig's, or its own netns lab), runs the files with ava's TAP reporter one at a time,
// turns the stream into one row per test, writes JUnit XML and the Markdown report, prints the
// totals and exits non-zero when any test failed. See test/conformance/README.md.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, createWriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, reportPath, USAGE, type RunOptions } from './args.ts';
import { clusterFacts, commitOf, provideCluster } from './cluster.ts';
import { discover, selectTitles, type SuiteFile } from './discover.ts';
import { measure } from './measure.ts';
import { renderJunit, renderMarkdown, seconds, summaryLine, type RunFacts } from './report.ts';
import { buildRows, totals, undeclaredRows } from './results.ts';
import { SUBSETS } from './subsets.ts';
import { parseTap, type TapLine } from './tap.ts';
import { loadUpstream } from './upstream.ts';

const OUT = '.build/conformance';
const log = (s: string) => process.stdout.write(`conformance: ${s}\n`);

interface AvaRun {
  lines: TapLine[];
  startedAt: number;
  code: number | null;
}

/** Runs ava over the files (one at a time, tests serially), echoing one line per result. */
function runAva(files: SuiteFile[], selected: Set<string> | undefined, env: NodeJS.ProcessEnv, onChild: (kill: () => void) => void): Promise<AvaRun> {
  const args = [resolve('node_modules/ava/entrypoints/cli.mjs'), '--tap', '--concurrency=1', '--timeout=10m'];
  for (const t of selected ?? []) args.push(`--match=${t}`);
  args.push(...files.map((f) => f.path));
  const startedAt = Date.now();
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  onChild(() => child.kill('SIGTERM'));
  const tap = createWriteStream(`${OUT}/ava.tap`);
  const stderr = createWriteStream(`${OUT}/ava.stderr.log`);
  child.stderr.pipe(stderr);
  const lines: TapLine[] = [];
  let prev = startedAt;
  createInterface({ input: child.stdout }).on('line', (text) => {
    const at = Date.now();
    lines.push({ at, text });
    tap.write(`${text}\n`);
    const m = /^(not ok|ok) \d+ - (.*?)( # SKIP| # TODO)?$/.exec(text);
    if (m) {
      const mark = m[3] ? '-' : m[1] === 'ok' ? '✔' : '✘';
      process.stdout.write(`  ${mark} ${m[3] ? '' : `${((at - prev) / 1000).toFixed(1)}s `}${m[2]}\n`);
      if (!m[3]) prev = at;
    } else if (/^# \S/.test(text) && !/^# (tests|pass|fail|skip|todo) \d+$/.test(text)) {
      prev = at;
    }
  });
  return new Promise((done) =>
    child.on('close', (code) => {
      tap.end();
      stderr.end();
      done({ lines, startedAt, code });
    }),
  );
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

async function main(o: RunOptions): Promise<number> {
  let subset: Set<string> | undefined;
  if (o.subset) {
    if (!SUBSETS[o.subset]) throw new Error(`unknown subset "${o.subset}"; known: ${Object.keys(SUBSETS).join(', ')}`);
    subset = new Set(SUBSETS[o.subset]);
  }
  const all = discover();
  const upstream = loadUpstream();
  const selected = selectTitles(all, { focus: o.focus, subset });
  const files = selected ? all.filter((f) => f.titles.some((t) => selected.has(t))) : all;
  if (!files.length) throw new Error('no test matches the selection');
  log(`${files.length} files: ${files.map((f) => f.path.replace('test/e2e/', '')).join(', ')}${selected ? ` (${selected.size} selected tests)` : ''}`);
  mkdirSync(OUT, { recursive: true });

  const cluster = await provideCluster({ kubeconfig: o.kubeconfig, keepLab: o.keepLab, log });
  let kill = () => {};
  const interrupted = () => {
    log('interrupted: stopping the tests and cleaning up');
    kill();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let run: AvaRun;
  let facts: ReturnType<typeof clusterFacts>;
  const date = new Date().toISOString();
  try {
    facts = clusterFacts(cluster.kubeconfig);
    log(`cluster: ${cluster.description}, ${facts.nodes} nodes, server ${facts.server}, kubectl ${facts.kubectl}`);
    const env: NodeJS.ProcessEnv = { ...process.env, HAWSER_E2E_KUBECONFIG: cluster.kubeconfig, FORCE_COLOR: '0' };
    if (cluster.labDir) env.HAWSER_E2E_LAB_DIR = cluster.labDir;
    else delete env.HAWSER_E2E_LAB_DIR;
    run = await runAva(files, selected, env, (k) => {
      kill = k;
    });
  } finally {
    await cluster.teardown();
  }

  const rows = [...buildRows(files, parseTap(run.lines, run.startedAt), selected), ...undeclaredRows(subset ?? [], all)];
  const runFacts: RunFacts = {
    date,
    cluster: `${cluster.description}, ${facts.nodes} nodes`,
    server: facts.server,
    kubectl: facts.kubectl,
    commit: commitOf(),
    durationMs: Date.now() - Date.parse(date),
    selection: [o.subset && `--subset ${o.subset}`, o.focus && `--focus ${o.focus.source}`].filter(Boolean).join(' ') || undefined,
  };
  const measured = measure(
    rows,
    upstream,
    all.flatMap((f) => f.titles),
    selected !== undefined,
  );
  const junit = o.junit ?? `${OUT}/junit.xml`;
  const report = reportPath(o);
  write(junit, renderJunit(rows, runFacts));
  write(report, renderMarkdown(rows, runFacts, measured));
  const t = totals(rows);
  log(`${summaryLine(rows, measured)} in ${seconds(runFacts.durationMs)}`);
  for (const r of rows.filter((x) => x.status === 'failed'))
    process.stdout.write(`  FAILED ${r.title}\n         ${(r.reason ?? '').split('\n')[0].slice(0, 300)}\n`);
  log(`report: ${report}; JUnit: ${junit}; raw TAP: ${OUT}/ava.tap`);
  if (run.code !== 0 && t.failed === 0) {
    log(`ava exited with ${run.code} although no test failed: see ${OUT}/ava.stderr.log`);
    return 1;
  }
  return t.failed > 0 ? 1 : 0;
}

let opts: RunOptions;
try {
  opts = parseArgs(process.argv.slice(2), process.env);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
if (opts.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
main(opts).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`conformance: ${(e as Error).message}\n`);
    process.exit(2);
  },
);
