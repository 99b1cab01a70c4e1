// Runs helpers/admission-webhook.ts for one test file (admission and conversion webhook mirrors):
// the process starts before the file's tests, its {port, caBundle} line is read, and it is stopped
// after them, also when they fail.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';

export interface WebhookProcess {
  port: number;
  caBundle: string;
}

/** The webhook process's address and CA, filled in before the file's first test. */
export function webhookProcess(): { current(): WebhookProcess } {
  let child: ChildProcess | undefined;
  let hook: WebhookProcess | undefined;
  test.before(async () => {
    child = spawn(process.execPath, ['--import=tsx', 'test/e2e/helpers/admission-webhook.ts'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once('line', resolve);
      child!.once('exit', (code) => reject(new Error(`the webhook process exited (${code})`)));
    });
    hook = JSON.parse(line) as WebhookProcess;
  });
  test.after.always(() => {
    child?.stdin?.end();
    child?.kill('SIGTERM');
  });
  return {
    current() {
      if (!hook) throw new Error('the webhook process is not running');
      return hook;
    },
  };
}
