// writeContainerLog against real files (no server): large files are streamed in chunks, tails read
// only the end, and a missing file is an empty log.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { tailStart, writeContainerLog } from '../../agents/kubelet/server/log-stream.ts';
import type { LogRequest } from '../../agents/kubelet/server/params.ts';

const T = '2026-01-02T03:04:05.000000000Z';
const base: LogRequest = { follow: false, previous: false };

function sink() {
  const parts: Buffer[] = [];
  let writes = 0;
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      writes++;
      cb();
    },
  });
  return { w, text: () => Buffer.concat(parts).toString(), writes: () => writes };
}

function bigLog(t: import('ava').ExecutionContext, lines: number) {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-logfile-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, '0.log');
  const body: string[] = [];
  for (let i = 0; i < lines; i++) body.push(`${T} ${i % 10 === 9 ? 'stderr' : 'stdout'} F line ${i} ${'x'.repeat(40)}`);
  writeFileSync(path, body.join('\n') + '\n');
  return path;
}

test('a large log is written in several chunks, whole', async (t) => {
  const path = bigLog(t, 60_000); // about 5 MiB
  const s = sink();
  await writeContainerLog(path, base, s.w);
  const out = s.text().split('\n');
  t.is(out.length, 60_001);
  t.is(out[59_999], `line 59999 ${'x'.repeat(40)}`);
  t.true(s.writes() > 1, 'streamed, not buffered whole');
});

test('tails read only the end of a large file', async (t) => {
  const path = bigLog(t, 60_000);
  const fh = await open(path, 'r');
  t.teardown(() => fh.close());
  const size = (await fh.stat()).size;
  const start = await tailStart(fh, size, 3, base);
  t.true(start > size - 128 * 1024, `started ${size - start} bytes from the end`);
  const s = sink();
  await writeContainerLog(path, { ...base, tailLines: 3 }, s.w);
  t.is(s.text(), [59_997, 59_998, 59_999].map((i) => `line ${i} ${'x'.repeat(40)}\n`).join(''));
  const e = sink();
  await writeContainerLog(path, { ...base, tailLines: 2, stream: 'stderr' }, e.w);
  t.is(e.text(), [59_989, 59_999].map((i) => `line ${i} ${'x'.repeat(40)}\n`).join(''));
  const none = sink();
  await writeContainerLog(path, { ...base, tailLines: 0 }, none.w);
  t.is(none.text(), '');
});

test('a missing log file is an empty log', async (t) => {
  const s = sink();
  await writeContainerLog('/nonexistent/hawser/0.log', base, s.w);
  t.is(s.text(), '');
});
