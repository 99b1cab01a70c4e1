// The memo of verified service-account tokens: it must answer exactly as verifyJws does (a bad
// signature is never remembered as good), and stay bounded however many tokens pods present.
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { signJws, VerifiedTokens } from '../../agents/control-plane/auth/jws.ts';

const ours = generateKeyPairSync('rsa', { modulusLength: 2048 });
const theirs = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('a token of our key is accepted, and again from the memo with the same claims', (t) => {
  const v = new VerifiedTokens(ours.publicKey);
  const token = signJws({ sub: 'system:serviceaccount:a:b', exp: 1 }, ours.privateKey, 'k');
  t.false(v.has(token));
  const first = v.verify(token);
  t.false(first instanceof Error);
  t.true(v.has(token));
  t.is(v.verify(token), first);
});

test('a token of another key is refused every time and never remembered', (t) => {
  const v = new VerifiedTokens(ours.publicKey);
  const foreign = signJws({ sub: 'x' }, theirs.privateKey, 'k');
  for (let i = 0; i < 2; i++) {
    const r = v.verify(foreign);
    t.true(r instanceof Error);
    t.is((r as Error).message, 'invalid signature');
  }
  t.false(v.has(foreign));
  // the same claims with a signature swapped in from a good token are refused too
  const good = signJws({ sub: 'y' }, ours.privateKey, 'k');
  v.verify(good);
  const spliced = `${foreign.split('.').slice(0, 2).join('.')}.${good.split('.')[2]}`;
  t.true(v.verify(spliced) instanceof Error);
});

test('the memo keeps at most max tokens, dropping the least recently used', (t) => {
  const v = new VerifiedTokens(ours.publicKey, 2);
  const [a, b, c] = ['a', 'b', 'c'].map((sub) => signJws({ sub }, ours.privateKey, 'k'));
  v.verify(a);
  v.verify(b);
  v.verify(a); // a is now the most recent
  v.verify(c);
  t.true(v.has(a));
  t.false(v.has(b));
  t.true(v.has(c));
});
