// The upstream conformance list the report measures against (test/conformance/upstream/*.tsv,
// one release's kubernetes/kubernetes conformance.yaml reduced to facts), and the name check
// that keeps the suite's "[Conformance]" titles equal to names on that list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface UpstreamTest {
  /** the full test name, e.g. "[sig-node] Pods should get a host IP [NodeConformance] [Conformance]" */
  codename: string;
  sig: string;
  /** the release(s) it entered conformance in, e.g. "v1.9" or "v1.21, v1.35" */
  release: string;
  /** its upstream source file, e.g. "test/e2e/common/node/pods.go" */
  file: string;
}

export interface UpstreamList {
  /** e.g. "v1.35" */
  release: string;
  path: string;
  tests: UpstreamTest[];
}

export const UPSTREAM_RELEASE = 'v1.35';
export const UPSTREAM_PATH = join('test/conformance/upstream', `conformance-${UPSTREAM_RELEASE}.tsv`);

const COLUMNS = ['sig', 'release', 'file', 'codename'] as const;

/** Parses the list: "#" comment lines, a header naming the columns, then one tab-separated test a line. */
export function parseUpstream(text: string, release: string, path = '(inline)'): UpstreamList {
  const lines = text
    .split('\n')
    .map((l, i) => ({ l, n: i + 1 }))
    .filter(({ l }) => l.trim() && !l.startsWith('#'));
  const [head, ...body] = lines;
  if (!head || head.l !== COLUMNS.join('\t')) throw new Error(`${path}: the first line that is not a comment must be "${COLUMNS.join('\\t')}"`);
  const seen = new Set<string>();
  const tests = body.map(({ l, n }) => {
    const f = l.split('\t');
    if (f.length !== COLUMNS.length) throw new Error(`${path}:${n}: ${f.length} fields, want ${COLUMNS.length}`);
    const [sig, rel, file, codename] = f;
    if (!codename.startsWith(`[${sig}] `)) throw new Error(`${path}:${n}: "${codename}" does not start with [${sig}]`);
    if (seen.has(codename)) throw new Error(`${path}:${n}: "${codename}" is listed twice`);
    seen.add(codename);
    return { sig, release: rel, file, codename };
  });
  return { release, path, tests };
}

export function loadUpstream(path = UPSTREAM_PATH, release = UPSTREAM_RELEASE): UpstreamList {
  return parseUpstream(readFileSync(path, 'utf8'), release, path);
}

/** Edit distance over words, so that the nearest name is the one differing by the fewest tags or words. */
function wordDistance(a: string, b: string): number {
  const x = a.split(' '),
    y = b.split(' ');
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length];
}

export function nearest(name: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = wordDistance(name, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  return best;
}

export interface NameMismatch {
  title: string;
  file: string;
  nearest?: string;
}

/**
 * Titles that claim an upstream conformance name (contain "[Conformance]") but are not exactly a
 * name on the list, each with the nearest listed name.
 */
export function nameMismatches(files: { path: string; titles: string[] }[], list: UpstreamList): NameMismatch[] {
  const names = list.tests.map((t) => t.codename);
  const known = new Set(names);
  return files.flatMap((f) =>
    f.titles.filter((t) => /\[Conformance\]/.test(t) && !known.has(t)).map((title) => ({ title, file: f.path, nearest: nearest(title, names) })),
  );
}
