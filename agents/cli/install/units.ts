// What a unit runs: the ExecStart command line of a service unit (plus its drop-ins), split the
// way systemd splits it. The netns lab starts each component from exactly this argv (with the
// host paths mapped into the lab), so a unit whose command line would not work fails there.
import { readFileSync } from 'node:fs';
import { LAYOUT } from './layout.ts';

/** Logical lines of one section (continuations joined, comments dropped) as [key, value]. */
export function sectionEntries(text: string, section: string): [string, string][] {
  const out: [string, string][] = [];
  let current = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = pending ? `${pending} ${raw.trim()}` : raw.trim();
    pending = '';
    if (line.endsWith('\\')) {
      pending = line.slice(0, -1).trimEnd();
      continue;
    }
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      current = sec[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (current === section && eq > 0) out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** systemd's word splitting: whitespace separates, quotes group, backslash escapes, %% is a %. */
export function splitCommandLine(s: string): string[] {
  const words: string[] = [];
  let i = 0;
  const escapes: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'", ' ': ' ', s: ' ' };
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i])) i++;
    if (i >= s.length) break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i];
      if (!quote && /\s/.test(c)) break;
      if (c === '\\') {
        const n = s[++i];
        if (n === undefined || !(n in escapes)) throw new Error(`unsupported escape \\${n ?? ''} in ${JSON.stringify(s)}`);
        word += escapes[n];
      } else if (quote && c === quote) quote = '';
      else if (!quote && (c === '"' || c === "'")) quote = c;
      else if (c === '%') {
        if (s[i + 1] !== '%') throw new Error(`unit specifier %${s[i + 1]} is not supported in ${JSON.stringify(s)}`);
        word += '%';
        i++;
      } else if (c === '$' && !quote) throw new Error(`environment expansion is not supported in ${JSON.stringify(s)}`);
      else word += c;
    }
    if (quote) throw new Error(`unbalanced quote in ${JSON.stringify(s)}`);
    words.push(word);
  }
  return words;
}

/**
 * The argv ExecStart= runs, from a unit's text followed by its drop-ins' texts in order (an empty
 * ExecStart= in a drop-in resets the list, as systemd does). Exactly one command must remain.
 */
export function execStartArgv(...texts: string[]): string[] {
  let cmds: string[] = [];
  for (const t of texts) {
    for (const [k, v] of sectionEntries(t, 'Service')) {
      if (k !== 'ExecStart') continue;
      if (v === '') cmds = [];
      else cmds.push(v);
    }
  }
  if (cmds.length !== 1) throw new Error(`expected exactly one ExecStart= command, found ${cmds.length}`);
  // prefixes: "-" ignore failure, "@" argv0, ":" no env expansion, "+" "!" "!!" privileges
  const m = /^([-@:+!]*)(.*)$/.exec(cmds[0])!;
  if (m[1].includes('@')) throw new Error('the "@" ExecStart prefix is not supported');
  return splitCommandLine(m[2]);
}

export interface LabMapping {
  /** what runs in place of /usr/local/bin/hawser, e.g. [process.execPath, '/repo/dist/hawser.cjs'] */
  hawser: string[];
  /** the directory that stands for /etc/hawser (it holds the component's <name>.yaml) */
  etcDir: string;
}

/** Maps a unit's argv from the host's paths to the lab's; nothing else changes. */
export function mapToLab(argv: string[], m: LabMapping): string[] {
  const etc = `${LAYOUT.etcDir}/`;
  const rest = argv.slice(1).map((a) => (a.startsWith(etc) ? `${m.etcDir}/${a.slice(etc.length)}` : a));
  return argv[0] === LAYOUT.bin ? [...m.hawser, ...rest] : [argv[0], ...rest];
}

/** The lab's command for a unit file (and drop-ins): read, split, mapped. */
export function unitCommand(unitFile: string, m: LabMapping, dropIns: string[] = []): string[] {
  const texts = [unitFile, ...dropIns].map((f) => readFileSync(f, 'utf8'));
  return mapToLab(execStartArgv(...texts), m);
}
