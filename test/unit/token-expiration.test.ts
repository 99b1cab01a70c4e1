import test from 'ava';
import { parseMaxExpiration, tokenLifetime } from '../../agents/control-plane/auth/token-expiration.ts';

const YEAR = 365 * 24 * 3600;
const kubelet = { podBound: true, ownAudiences: true };

test('no cap: the request as asked; the kubelet 3607 s request gets a year that warns after 3607 s', (t) => {
  t.deepEqual(tokenLifetime({ maxSeconds: 0, extend: true }, 86400, kubelet), { expirationSeconds: 86400, lifetimeSeconds: 86400, warnings: [] });
  t.deepEqual(tokenLifetime({ maxSeconds: 0, extend: true }, 3607, kubelet), {
    expirationSeconds: 3607,
    lifetimeSeconds: YEAR,
    warnAfterSeconds: 3607,
    warnings: [],
  });
});

test('the extension needs a pod binding, our own audience and --service-account-extend-token-expiration', (t) => {
  t.is(tokenLifetime({ maxSeconds: 0, extend: true }, 3607, { podBound: false, ownAudiences: true }).lifetimeSeconds, 3607);
  t.is(tokenLifetime({ maxSeconds: 0, extend: true }, 3607, { podBound: true, ownAudiences: false }).lifetimeSeconds, 3607);
  t.is(tokenLifetime({ maxSeconds: 0, extend: false }, 3607, kubelet).lifetimeSeconds, 3607);
});

test('the cap shortens with a warning, and a cap under 3607 s ends the extension', (t) => {
  t.deepEqual(tokenLifetime({ maxSeconds: 7200, extend: true }, 86400, { podBound: false, ownAudiences: true }), {
    expirationSeconds: 7200,
    lifetimeSeconds: 7200,
    warnings: ['requested expiration of 86400 seconds shortened to 7200 seconds'],
  });
  t.is(tokenLifetime({ maxSeconds: 7200, extend: true }, 3607, kubelet).lifetimeSeconds, YEAR);
  t.deepEqual(tokenLifetime({ maxSeconds: 3600, extend: true }, 3607, kubelet), {
    expirationSeconds: 3600,
    lifetimeSeconds: 3600,
    warnings: ['requested expiration of 3607 seconds shortened to 3600 seconds'],
  });
});

test('--service-account-max-token-expiration: a Go duration between 1 hour and 2^32 seconds, 0 for none', (t) => {
  t.is(parseMaxExpiration(undefined), 0);
  t.is(parseMaxExpiration('0'), 0);
  t.is(parseMaxExpiration('24h'), 86400);
  t.is(parseMaxExpiration('1h30m'), 5400);
  t.throws(() => parseMaxExpiration('59m'), { message: 'the service-account-max-token-expiration must be between 1 hour and 2^32 seconds' });
  t.throws(() => parseMaxExpiration('1193047h'), { message: /between 1 hour and 2\^32 seconds/ });
  t.throws(() => parseMaxExpiration('soon'), { message: /bad duration/ });
});
