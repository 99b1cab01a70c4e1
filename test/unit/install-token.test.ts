// Join tokens: the K10<ca-hash>::<id>.<secret> shape, durations, and the credential check.
import test from 'ava';
import { createHash } from 'node:crypto';
import { checkCredential, type StoredToken } from '../../agents/control-plane/join/store.ts';
import { formatToken, parseDuration, parseToken, randomCredential, sameDigest, secretHash } from '../../agents/control-plane/join/token.ts';

const hash = createHash('sha256').update('ca').digest('hex');

test('format and parse round-trip; random credentials have the bootstrap-token shape', (t) => {
  const c = randomCredential();
  t.regex(`${c.id}.${c.secret}`, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  const s = formatToken({ caHash: hash, ...c });
  t.is(s, `K10${hash}::${c.id}.${c.secret}`);
  t.deepEqual(parseToken(` ${s}\n`), { caHash: hash, ...c });
  t.not(randomCredential().secret, c.secret);
});

test('tokens without a CA pin or of the wrong shape are refused with a clear message', (t) => {
  t.throws(() => parseToken('abcdef.0123456789abcdef'), { message: /no CA pin/ });
  t.throws(() => parseToken(`K10${hash.slice(2)}::abcdef.0123456789abcdef`), { message: /malformed/ });
  t.throws(() => parseToken(`K10${hash}::ABCDEF.0123456789abcdef`), { message: /6 chars/ });
  t.throws(() => parseToken(`K10${hash}::abcdef.0123`), { message: /16 chars/ });
});

test('durations', (t) => {
  t.is(parseDuration('90s'), 90_000);
  t.is(parseDuration('30m'), 1_800_000);
  t.is(parseDuration('24h'), 86_400_000);
  t.is(parseDuration('7d'), 604_800_000);
  t.is(parseDuration('0'), 0);
  t.throws(() => parseDuration('1w'));
});

test('credential check: right secret, wrong secret, unknown id, expired', (t) => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const tokens: StoredToken[] = [
    { id: 'aaaaaa', secretSha256: secretHash('s'.repeat(16)), created: '', expires: '2026-01-02T00:00:00Z' },
    { id: 'bbbbbb', secretSha256: secretHash('t'.repeat(16)), created: '', expires: '2025-12-31T00:00:00Z' },
    { id: 'cccccc', secretSha256: secretHash('u'.repeat(16)), created: '' },
  ];
  t.deepEqual(checkCredential(tokens, 'aaaaaa', 's'.repeat(16), now), { ok: true, id: 'aaaaaa' });
  t.deepEqual(checkCredential(tokens, 'aaaaaa', 'x'.repeat(16), now), { ok: false, reason: 'unknown' });
  t.deepEqual(checkCredential(tokens, 'zzzzzz', 's'.repeat(16), now), { ok: false, reason: 'unknown' });
  t.deepEqual(checkCredential(tokens, 'bbbbbb', 't'.repeat(16), now), { ok: false, reason: 'expired' });
  t.deepEqual(checkCredential(tokens, 'cccccc', 'u'.repeat(16), now), { ok: true, id: 'cccccc' }, 'no expiry');
  t.false(sameDigest('', ''));
  t.false(sameDigest(secretHash('a'), secretHash('b')));
});
