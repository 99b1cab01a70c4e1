// sd_notify through systemd-notify: the arguments, the watchdog period, and that nothing is sent
// (and nothing inherited) outside systemd.
import test from 'ava';
import { notifyArgs, systemdNotifier, watchdogPeriodMs } from '../../agents/cli/sd-notify.ts';

test('each field is one VAR=VALUE argument sent as the main process, newlines folded', (t) => {
  t.deepEqual(notifyArgs(42, { READY: '1', STATUS: 'node a\nregistered' }), ['--pid=42', 'READY=1', 'STATUS=node a registered']);
});

test('the watchdog pings at half of WATCHDOG_USEC, only when WATCHDOG_PID is ours or absent', (t) => {
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '60000000' }, 7), 30_000);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '7' }, 7), 30_000);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '8' }, 7), undefined);
  t.is(watchdogPeriodMs({}, 7), undefined);
  t.is(watchdogPeriodMs({ WATCHDOG_USEC: 'x' }, 7), undefined);
});

test('messages go out in order with the socket, and the variables are taken out of the environment', async (t) => {
  const sent: string[][] = [];
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify/1', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '5', PATH: '/bin' };
  const n = systemdNotifier(
    env,
    async (args, e) => {
      await new Promise((r) => setTimeout(r, args.includes('STATUS=a') ? 20 : 0)); // a slow first send must not be overtaken
      t.is(e.NOTIFY_SOCKET, '@/org/freedesktop/systemd1/notify/1');
      sent.push(args);
    },
    5,
  );
  t.deepEqual(env, { PATH: '/bin' });
  void n.status('a');
  await n.ready('b');
  await n.stopping();
  t.deepEqual(sent, [
    ['--pid=5', 'STATUS=a'],
    ['--pid=5', 'READY=1', 'STATUS=b'],
    ['--pid=5', 'STOPPING=1'],
  ]);
});

test('without NOTIFY_SOCKET (not started by systemd) nothing is sent', async (t) => {
  let calls = 0;
  const n = systemdNotifier(
    { WATCHDOG_USEC: '1000' },
    async () => {
      calls++;
    },
    5,
  );
  await n.ready('x');
  await n.stopping();
  t.is(calls, 0);
});
