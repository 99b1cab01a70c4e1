// Reads ava's TAP stream, line by line as it arrives, into per-test results. ava's TAP carries no
// durations, so each line is stamped on arrival and a test's time is the gap since the line before
// it (files run one at a time and tests serially, so that gap is the test, plus its file's
// start-up for the first one). Failure reasons come from the YAML block ava writes under "not ok".
import { parse as parseYaml } from 'yaml';

export interface TapLine {
  at: number;
  text: string;
}

export interface TapResult {
  /** the full TAP title, with ava's "file › " prefix when several files ran */
  title: string;
  status: 'passed' | 'failed' | 'skipped' | 'todo';
  ms: number;
  reason?: string;
  logs: string[];
}

export interface TapRun {
  results: TapResult[];
  /** "# N tests remaining in FILE": tests that never reported, per file */
  remaining: Record<string, number>;
}

const RESULT = /^(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/;

export function parseTap(lines: TapLine[], startedAt = lines[0]?.at ?? 0): TapRun {
  const results: TapResult[] = [];
  const remaining: Record<string, number> = {};
  let last = startedAt;
  let current: TapResult | undefined;
  let yamlLines: string[] | undefined;

  for (const { at, text } of lines) {
    if (yamlLines) {
      if (/^ {2}\.\.\.$/.test(text)) {
        if (current) current.reason = reasonFromYaml(yamlLines.join('\n'));
        yamlLines = undefined;
      } else {
        yamlLines.push(text.replace(/^ {4}/, ''));
      }
      continue;
    }
    if (/^ {2}---$/.test(text)) {
      yamlLines = [];
      continue;
    }
    const m = RESULT.exec(text);
    if (m) {
      const directive = m[3];
      const status = directive === 'SKIP' ? 'skipped' : directive === 'TODO' ? 'todo' : m[1] === 'ok' ? 'passed' : 'failed';
      // ava reports skipped tests when it selects them, before anything runs: they took no time
      current = { title: m[2], status, ms: status === 'skipped' || status === 'todo' ? 0 : Math.max(0, at - last), logs: [] };
      if (status !== 'skipped' && status !== 'todo') last = at;
      results.push(current);
      continue;
    }
    const rem = /^# (\d+) tests? remaining in (.+)$/.exec(text);
    if (rem) {
      remaining[rem[2].trim()] = Number(rem[1]);
      continue;
    }
    if (/^# {3}/.test(text) && current) {
      current.logs.push(text.slice(4));
      continue;
    }
    // "# file › before hook" and similar: a hook finished; the next test's time starts here
    if (/^# \S/.test(text) && !/^# (tests|pass|fail|skip|todo) \d+$/.test(text)) last = at;
  }
  return { results, remaining };
}

/** One line a reader can act on: the thrown error's own message, else the assertion and its values. */
export function reasonFromYaml(block: string): string {
  let doc: any;
  try {
    doc = parseYaml(block);
  } catch {
    return (
      block
        .split('\n')
        .find((l) => l.trim())
        ?.trim() ?? 'failed'
    );
  }
  if (!doc || typeof doc !== 'object') return String(doc ?? 'failed');
  const details: Record<string, string> = doc.details ?? {};
  const thrown = Object.entries(details).find(([k]) => /Error thrown|Rejected promise|rejected with/i.test(k))?.[1];
  if (thrown) {
    const inner = /message: (['"])([\s\S]*?)\1,?\s*$/m.exec(thrown);
    if (inner) return unquote(inner[2], inner[1]);
    return thrown.split('\n').slice(0, 3).join(' ').trim();
  }
  const parts: string[] = [];
  if (doc.message) parts.push(String(doc.message));
  if (doc.assertion) parts.push(String(doc.assertion));
  for (const [k, v] of Object.entries(details)) parts.push(`${k.replace(/:$/, '')}: ${String(v).replace(/\s*\n\s*/g, ' ')}`);
  return parts.join(' — ') || String(doc.name ?? 'failed');
}

/** ava prints strings with the other quote escaped: undo it. */
const unquote = (s: string, q: string) => s.replace(new RegExp(`\\\\${q}`, 'g'), q).replace(/\\n/g, '\n');
