// Every key in systemd/ is one the oldest supported systemd (249) knows, except in the restart
// back-off drop-in, which the install writes only where systemd is new enough for its keys.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BACKOFF_DROPIN, BACKOFF_MIN_SYSTEMD } from '../../agents/cli/install/plan.ts';
import { keysNeeded, OLDEST_SYSTEMD } from '../../agents/cli/install/systemd-keys.ts';

const SYSTEMD = new URL('../../systemd', import.meta.url).pathname;
const files = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? files(join(d, f)) : [join(d, f)]));

test('each unit and drop-in uses only keys the systemd it is installed on knows', (t) => {
  const all = files(SYSTEMD).map((f) => relative(SYSTEMD, f));
  t.true(all.includes(BACKOFF_DROPIN) && all.length > 5);
  for (const rel of all) {
    const max = rel === BACKOFF_DROPIN ? BACKOFF_MIN_SYSTEMD : OLDEST_SYSTEMD;
    for (const k of keysNeeded(readFileSync(join(SYSTEMD, rel), 'utf8'))) {
      t.not(k.since, undefined, `${rel}: [${k.section}] ${k.key}= is not in KEY_SINCE: look up the systemd version that added it`);
      t.true((k.since ?? Infinity) <= max, `${rel}: ${k.key}=${k.value} needs systemd ${k.since}, but the file is installed on systemd ${max}`);
    }
  }
});

test('keysNeeded: sections, values that need a newer systemd, unknown keys', (t) => {
  const ks = keysNeeded('[Unit]\nAfter=x\n[Service]\nType=exec\nType=simple\nRestartSteps=3\nFrobnicate=1\n');
  t.deepEqual(
    ks.map((k) => [k.section, k.key, k.since]),
    [
      ['Unit', 'After', 230],
      ['Service', 'Type', 240],
      ['Service', 'Type', 230],
      ['Service', 'RestartSteps', 254],
      ['Service', 'Frobnicate', undefined],
    ],
  );
});
