// sd_notify(3) for a Node.js process, so units can be Type=notify: READY=1 once the component
// serves, STATUS= lines for `systemctl status`, WATCHDOG=1 pings from the event loop.
//
// systemd's notification socket ($NOTIFY_SOCKET, a path or an abstract "@name") takes AF_UNIX
// datagrams only, and Node.js has no unix datagram sockets (node:dgram is UDP only; node:net is
// stream only). Rather than a native module or a compiled helper in the release, each message is
// handed to systemd's own `systemd-notify`, present wherever systemd is PID 1:
// - `--pid=<our pid>`: run as root, systemd-notify sends the datagram with SCM_CREDENTIALS naming
//   our PID, so systemd attributes it to the unit's main process (not to the short-lived
//   systemd-notify, the "known race": a sender that has exited by the time PID 1 reads the
//   message cannot be mapped to a unit).
// - without --no-block it then waits on BARRIER=1 (systemd >= 246) until PID 1 has processed
//   the message, so STATUS and READY arrive in order and before we go on.
// - the units say NotifyAccess=all, so the barrier datagram (sent with systemd-notify's own
//   credentials) is accepted without a "reception only permitted for main PID" warning, and a
//   non-root run (credentials not forgeable) still works while the barrier holds the sender alive.
// One spawn per message: a READY, a few STATUS lines and one watchdog ping per half period.
import { runOk } from '../api/exec.ts';

/** Arguments for one systemd-notify call sending these fields as our (the main process's) message. */
export function notifyArgs(pid: number, fields: Record<string, string>): string[] {
  return [`--pid=${pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)];
}

/**
 * How often to send WATCHDOG=1 (sd_watchdog_enabled(3)): half of WATCHDOG_USEC, when systemd set
 * it for this process (WATCHDOG_PID, when present, must be ours: the variables are inherited).
 */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export interface Notifier {
  /** STATUS= line shown by `systemctl status` */
  status(text: string): Promise<void>;
  /** READY=1 with a STATUS= line; starts the watchdog pings if the unit has WatchdogSec= */
  ready(text: string): Promise<void>;
  stopping(): Promise<void>;
}

type Send = (args: string[], env: NodeJS.ProcessEnv) => Promise<void>;

// a failed notification is not fatal: without READY systemd's start timeout says so
const systemdNotify: Send = (args, env) =>
  runOk('systemd-notify', args, { env, timeoutMs: 10_000 }).then(
    () => undefined,
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
    },
  );

/**
 * The process's notifier. Takes NOTIFY_SOCKET and WATCHDOG_* out of process.env (as
 * sd_notify's unset_environment does) so that the tools and agents we start do not inherit them;
 * without NOTIFY_SOCKET (not started by systemd, e.g. the netns lab) every call does nothing.
 */
export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, send: Send = systemdNotify, pid = process.pid): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const period = watchdogPeriodMs(env, pid);
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete env[k];
  let queue = Promise.resolve();
  // one message at a time, in order
  const notify = (fields: Record<string, string>): Promise<void> => {
    if (!socket) return Promise.resolve();
    queue = queue.then(() => send(notifyArgs(pid, fields), { PATH: env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', NOTIFY_SOCKET: socket }));
    return queue;
  };
  let watchdog: NodeJS.Timeout | undefined;
  return {
    status: (text) => notify({ STATUS: text }),
    async ready(text) {
      await notify({ READY: '1', STATUS: text });
      // a timer on the event loop: a loop that stops turning stops the pings, and systemd
      // restarts the unit (WatchdogSec=); unref'd so it never keeps the process alive
      if (socket && period && !watchdog) watchdog = setInterval(() => void notify({ WATCHDOG: '1' }), period).unref();
    },
    async stopping() {
      clearInterval(watchdog);
      await notify({ STOPPING: '1' });
    },
  };
}
