// Streaming container logs (kubelet/server/log-stream.ts) to a slow reader.
import test from 'ava';

test('streaming a long container log to a slow reader leaves no close listeners behind (kubelet logs path)', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Writable } = await import('node:stream');
  const { writeContainerLog } = await import('../../agents/kubelet/server/log-stream.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gaps-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, '0.log');
  const line = `2025-01-01T00:00:00.000000000Z stdout F ${'y'.repeat(200)}\n`;
  writeFileSync(path, line.repeat(20_000)); // several MB: many chunks, each meeting a full writer
  let bytes = 0;
  let most = 0;
  const out = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      most = Math.max(most, out.listenerCount('close'));
      setImmediate(cb);
    },
  });
  await writeContainerLog(path, { follow: false, previous: false } as never, out);
  t.true(bytes > 1_000_000, `streamed ${bytes} bytes`);
  t.true(most <= 1, `at most one close listener at a time (saw ${most})`);
  t.is(out.listenerCount('close'), 0);
});
