// -v/--log-level/--log-format as every component takes them, and the text form of a log line.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { levelOfVerbosity, logFlags, logSettings } from '../../agents/cli/log-flags.ts';
import { textLine } from '../../agents/api/log-text.ts';

const parse = (args: string[]) => logFlags(new Command('x').exitOverride()).parse(args, { from: 'user' }).opts();

test('-v counts as klog does; --log-level wins; the format defaults to text on a terminal only', (t) => {
  t.deepEqual([0, 2, 4, 5, 6, 9].map(levelOfVerbosity), ['info', 'info', 'debug', 'debug', 'trace', 'trace']);
  t.deepEqual(logSettings(parse(['-v', '4']), { tty: false }), { level: 'debug', format: 'json' });
  t.deepEqual(logSettings(parse(['--v=6', '--log-format', 'json']), { tty: true }), { level: 'trace', format: 'json' });
  t.deepEqual(logSettings(parse(['-v', '6', '--log-level', 'warn']), { tty: true }), { level: 'warn', format: 'text' });
  t.deepEqual(logSettings(parse([]), { level: 'error', tty: false }), { level: 'error', format: 'json' });
  t.throws(() => parse(['--log-level', 'loud']), { message: /invalid --log-level "loud": one of trace, debug, info, warn, error, fatal/ });
  t.throws(() => parse(['--log-format', 'yaml']), { message: /invalid --log-format "yaml": text or json/ });
});

test('a text line: time, level, component, message, then the other fields as key=value', (t) => {
  const line = textLine({ level: 40, time: Date.parse('2026-01-02T03:04:05.678Z'), component: 'kubelet', name: 'kubelet', msg: 'pod sync failed', pod: 'default/web', attempt: 2, why: 'no such image' });
  t.is(line, '2026-01-02T03:04:05.678Z WARN  kubelet: pod sync failed pod=default/web attempt=2 why="no such image"\n');
});

test('every component takes the flags: a bad value is refused before the component starts', (t) => {
  // the CLI entry through tsx: a bad value fails before the component starts
  for (const cmd of ['control-plane', 'kubelet', 'podnet', 'kube-proxy', 'agent', 'cni-daemon']) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'agents/cli/main.ts', cmd, '--log-format', 'xml'], { encoding: 'utf8', timeout: 60_000 });
    t.regex(r.stderr, /invalid --log-format "xml": text or json/, cmd);
  }
  // the settings file (k3s-style, keyed by flag names) is checked the same way
  const dir = mkdtempSync(join(tmpdir(), 'hawser-log-'));
  try {
    writeFileSync(join(dir, 'kubelet.yaml'), 'log-level: loud\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'agents/cli/main.ts', 'kubelet', '--config', join(dir, 'kubelet.yaml')], { encoding: 'utf8', timeout: 60_000 });
    t.regex(r.stderr, /invalid --log-level "loud"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
