// The one way hawser's processes run another program: spawn without a shell, feed stdin, collect
// stdout and stderr, and give up after a timeout (SIGKILL), so no tool can stall an agent's event
// loop (no *Sync calls in long-running agents) or hang a sync for ever. run() resolves with the
// typed result whatever the exit; runOk() and the Exec functions reject with an ExecError that
// names the command and carries its stderr. The CNI plugins build their helpers on run() too.
import { spawn } from 'node:child_process';
import { systemEnv } from './system-path.ts';

/** How long a tool may run unless the caller says otherwise. */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

export interface ExecResult {
  /** exit status; 128 when killed by a signal */
  code: number;
  /** the signal that ended it, if one did (SIGKILL after a timeout) */
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  /** the environment (default: this process's, with PATH set to the system tools' directories) */
  env?: NodeJS.ProcessEnv;
  /** SIGKILL after this many ms (default DEFAULT_EXEC_TIMEOUT_MS) */
  timeoutMs?: number;
}

/** Runs a program to completion. Rejects only when it cannot be started; a failed exit is in the result. */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? systemEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128, signal, timedOut, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {
      /* the tool may exit before reading all its input; close reports it */
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A program that failed: its command line, how it ended and what it said. */
export class ExecError extends Error {
  constructor(
    readonly cmd: string,
    readonly args: readonly string[],
    readonly result: ExecResult,
  ) {
    const how = result.timedOut ? 'timed out' : result.signal ? `killed by ${result.signal}` : `exited ${result.code}`;
    super(`${[cmd, ...args].join(' ')} ${how}: ${(result.stderr.trim() || result.stdout.trim()).slice(0, 2000)}`);
  }
  get code(): number {
    return this.result.code;
  }
  get stderr(): string {
    return this.result.stderr;
  }
}

/** Runs a program and returns its stdout; rejects with ExecError unless it exits 0. */
export async function runOk(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0 || r.timedOut) throw new ExecError(cmd, args, r);
  return r.stdout;
}

/** A tool runner the agents take as a parameter, so tests can point it at a namespace or a fake. */
export type Exec = (cmd: string, args: string[], input?: string) => Promise<string>;

/** Runs tools here, or inside a network namespace (a name under /run/netns, or a path) through nsenter. */
export function makeExec(netns?: string, timeoutMs?: number): Exec {
  const prefix = netns ? [`--net=${netns.includes('/') ? netns : `/run/netns/${netns}`}`, '--'] : [];
  return (cmd, args, input) => (netns ? runOk('nsenter', [...prefix, cmd, ...args], { input, timeoutMs }) : runOk(cmd, args, { input, timeoutMs }));
}

/** Runs tools here. */
export const hostExec: Exec = makeExec();
