import test from 'ava';
import { decideJoin, hashPassword, passwordMatches } from '../../agents/control-plane/join/node-password.ts';

test('a stored hash matches its password only, and is salted', (t) => {
  const h = hashPassword('correct horse battery staple');
  t.regex(h, /^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
  t.true(passwordMatches('correct horse battery staple', h));
  t.false(passwordMatches('correct horse battery stapl', h));
  t.not(hashPassword('correct horse battery staple'), h, 'a new salt each time');
  t.false(passwordMatches('x', 'md5$00$00'), 'an unknown scheme never matches');
});

test('decideJoin: a name is held by its password while its Node exists', (t) => {
  const yes = () => true;
  const no = () => false;
  t.deepEqual(decideJoin({ nodeExists: false, passwordOk: no }), { ok: true, why: 'new' });
  t.deepEqual(decideJoin({ nodeExists: true, passwordOk: no }), { ok: true, why: 'first-password' });
  t.deepEqual(decideJoin({ storedHash: 'h', nodeExists: true, passwordOk: yes }), { ok: true, why: 'same-password' });
  t.deepEqual(decideJoin({ storedHash: 'h', nodeExists: true, passwordOk: no }), { ok: false, why: 'password-mismatch' });
  t.deepEqual(decideJoin({ storedHash: 'h', nodeExists: false, passwordOk: no }), { ok: true, why: 'node-deleted' });
});
