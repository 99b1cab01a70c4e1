// The Node's osImage comes from os-release's PRETTY_NAME as upstream's kubelet reports it.
import test from 'ava';
import { osImageFrom, readHostFacts } from '../../agents/kubelet/node/facts.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('osImage is PRETTY_NAME, quotes and escapes removed', (t) => {
  t.is(osImageFrom('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'), 'Debian GNU/Linux 12 (bookworm)');
  t.is(osImageFrom("PRETTY_NAME='Ubuntu 24.04.1 LTS'"), 'Ubuntu 24.04.1 LTS');
  t.is(osImageFrom('PRETTY_NAME=Alpine\n'), 'Alpine');
  t.is(osImageFrom('PRETTY_NAME="say \\"hi\\""'), 'say "hi"');
});

test('no PRETTY_NAME gives "Linux", as os-release(5) defaults it', (t) => {
  t.is(osImageFrom('NAME=foo\n'), 'Linux');
  t.is(osImageFrom(''), 'Linux');
});

test('the facts of this host: memory, kernel and storage are real figures', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facts-'));
  try {
    const f = await readHostFacts(join(dir, 'kubelet'));
    t.true(f.memoryBytes > 256 * 2 ** 20);
    t.regex(f.kernelVersion, /^\d+\.\d+/);
    t.true(f.ephemeralStorageBytes > 0);
    t.true(f.cpus >= 1);
    t.not(f.osImage, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
