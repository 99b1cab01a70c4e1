// What every hawser process does with an error nobody handled: log it with its stack through
// the component's logger and exit 2, as a Go program's panic does, so that systemd (Restart= in
// systemd/*.service) starts a clean process instead of one running on in an unknown state.
// Node would already die on either event; this makes the death say why in the unit's log (JSON,
// like every other line) rather than as a bare trace, and fixes the exit status.
import type { Logger } from '../api/log.ts';

/** Go's exit status after a panic */
export const CRASH_EXIT_CODE = 2;

export function installCrashPolicy(log: Logger, exit: (code: number) => never = process.exit): void {
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin }, `${origin === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception'}: exiting`);
    exit(CRASH_EXIT_CODE);
  });
  // without this listener Node turns the rejection into the uncaughtException above; with it the
  // rejection reason need not be an Error (a thrown string still gets logged)
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason instanceof Error ? reason : new Error(String(reason)) }, 'unhandled promise rejection: exiting');
    exit(CRASH_EXIT_CODE);
  });
}
