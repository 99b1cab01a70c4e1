// Pid files name one process: a pid reused by a later process is not taken for the recorded one.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { readPidFile, writePidFile } from '../../agents/cli/lab/pid-file.ts';
import { pidOf } from '../../agents/cli/lab/procs.ts';

const dir = mkdtempSync(join(tmpdir(), 'hawser-pidfile-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('a pid file names its process while that process runs, and nothing after it ends', async (t) => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const file = join(dir, 'a.pid');
  writePidFile(file, child.pid!);
  t.is(readPidFile(file), child.pid);
  t.is(pidOf(file), child.pid);
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
  t.is(readPidFile(file), undefined);
});

test('a live pid whose start time differs from the recorded one (a reused pid) is not signalled', (t) => {
  // this test process stands in for a program that later got the recorded pid
  const file = join(dir, 'reused.pid');
  writeFileSync(file, `${process.pid} 1\n`);
  t.is(readPidFile(file), undefined);
  t.is(pidOf(file), undefined, 'lab down would have signalled an unrelated process group');
});

test('a pid file from before start times were recorded is trusted on the pid alone', (t) => {
  const file = join(dir, 'old.pid');
  writeFileSync(file, `${process.pid}\n`);
  t.is(readPidFile(file), process.pid);
  writeFileSync(file, 'garbage\n');
  t.is(readPidFile(file), undefined);
});
