import test from 'ava';
import { decideJoin, hashPassword, passwordMatches } from '../../agents/control-plane/join/node-password.ts';

test('a stored hash matches its password only, and is salted', async (t) => {
  const h = await hashPassword('correct horse battery staple');
  t.regex(h, /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
  t.true(await passwordMatches('correct horse battery staple', h));
  t.false(await passwordMatches('correct horse battery stapl', h));
  t.not(await hashPassword('correct horse battery staple'), h, 'a new salt each time');
  t.false(await passwordMatches('x', 'md5$00$00'), 'an unknown scheme never matches');
});

test('decideJoin: a name is held by its password while its Node exists', async (t) => {
  const yes = async () => true;
  const no = async () => false;
  t.deepEqual(await decideJoin({ nodeExists: false, passwordOk: no }), { ok: true, why: 'new' });
  t.deepEqual(await decideJoin({ nodeExists: true, passwordOk: yes }), { ok: false, why: 'no-password-on-record' });
  t.deepEqual(await decideJoin({ storedHash: 'h', nodeExists: true, passwordOk: yes }), { ok: true, why: 'same-password' });
  t.deepEqual(await decideJoin({ storedHash: 'h', nodeExists: true, passwordOk: no }), { ok: false, why: 'password-mismatch' });
  t.deepEqual(await decideJoin({ storedHash: 'h', nodeExists: false, passwordOk: no }), { ok: true, why: 'node-deleted' });
});
