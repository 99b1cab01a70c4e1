// -v/--log-level/--log-format as every component takes them, and the text form of a log line.
import test from 'ava';
import { execFile } from 'node:child_process';
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
  const line = textLine({
    level: 40,
    time: Date.parse('2026-01-02T03:04:05.678Z'),
    component: 'kubelet',
    name: 'kubelet',
    msg: 'pod sync failed',
    pod: 'default/web',
    attempt: 2,
    why: 'no such image',
  });
  t.is(line, '2026-01-02T03:04:05.678Z WARN  kubelet: pod sync failed pod=default/web attempt=2 why="no such image"\n');
});

/** stderr of the CLI entry (through tsx) with these arguments */
const cliStderr = (args: string[]) =>
  new Promise<string>((res) => {
    execFile(process.execPath, ['--import', 'tsx', 'agents/cli/main.ts', ...args], { encoding: 'utf8', timeout: 60_000 }, (_e, _out, err) => res(err));
  });

test('every component takes the flags: a bad value is refused before the component starts', async (t) => {
  const commands = ['control-plane', 'kubelet', 'podnet', 'kube-proxy', 'agent', 'cni-daemon'];
  const dir = mkdtempSync(join(tmpdir(), 'hawser-log-'));
  try {
    // the settings file (k3s-style, keyed by flag names) is checked the same way
    writeFileSync(join(dir, 'kubelet.yaml'), 'log-level: loud\n');
    const [fromFile, ...errs] = await Promise.all([
      cliStderr(['kubelet', '--config', join(dir, 'kubelet.yaml')]),
      ...commands.map((cmd) => cliStderr([cmd, '--log-format', 'xml'])),
    ]);
    errs.forEach((e, i) => t.regex(e, /invalid --log-format "xml": text or json/, commands[i]));
    t.regex(fromFile!, /invalid --log-level "loud"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
