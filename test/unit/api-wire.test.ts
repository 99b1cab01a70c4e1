// agents/api/wire.ts: objects hawser writes carry metav1.Time as Go marshals it (whole-second
// RFC 3339 text, null when unset), and no builder hides a type behind `as never`.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { metaTime, wireTime } from '../../agents/api/wire.ts';
import { conditions } from '../../agents/kubelet/node/node-object.ts';

test('times go out as whole-second RFC 3339 text; text and null read back pass through', (t) => {
  t.is(metaTime(new Date('2026-12-07T13:00:05.678Z')), '2026-12-07T13:00:05Z');
  t.is(wireTime(new Date('2026-12-07T13:00:05.678Z')), '2026-12-07T13:00:05Z');
  t.is(wireTime('2026-01-01T00:00:00Z'), '2026-01-01T00:00:00Z');
  t.is(wireTime(null), null);
});

test('node conditions keep a held transition time and stamp the heartbeat', (t) => {
  const h = { runtimeReady: true, networkReady: true, message: '' };
  const first = conditions(h, '2026-01-01T00:00:00Z');
  const next = conditions(h, '2026-01-01T00:00:10Z', first);
  t.like(
    next.find((c) => c.type === 'Ready'),
    { status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', lastHeartbeatTime: '2026-01-01T00:00:10Z' },
  );
  const down = conditions({ ...h, networkReady: false, message: 'no CNI' }, '2026-01-01T00:00:20Z', next);
  t.like(
    down.find((c) => c.type === 'Ready'),
    { status: 'False', lastTransitionTime: '2026-01-01T00:00:20Z' },
  );
});

function sources(p: string): string[] {
  if (!statSync(p).isDirectory()) return p.endsWith('.ts') ? [p] : [];
  return readdirSync(p).flatMap((n) => sources(join(p, n)));
}

test('no `as never` cast in the agents or the CNI plugins', (t) => {
  t.deepEqual(
    ['agents', 'cni-plugins'].flatMap(sources).filter((f) => /\bas never\b/.test(readFileSync(f, 'utf8'))),
    [],
  );
});
