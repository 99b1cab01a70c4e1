// Running helper programs (ip, iptables-restore, nsenter, delegated plugins) without a shell.
import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** Run a program to completion; never rejects for a non-zero exit (callers decide what failure means). */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const t0 = TRACE ? performance.now() : 0;
  const p = spawnAndWait(cmd, args, opts);
  if (TRACE) void p.then((r) => process.stderr.write(`hawser-cni trace: ${(performance.now() - t0).toFixed(1)} ms exit ${r.code}: ${cmd} ${args.join(' ')}\n`));
  return p;
}

// HAWSER_CNI_TRACE=1 logs every helper program run with its duration, to see where a verb's time goes.
const TRACE = !!process.env.HAWSER_CNI_TRACE;

function spawnAndWait(cmd: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env as NodeJS.ProcessEnv | undefined,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => {}); // the child may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

export class ExecError extends Error {
  constructor(
    readonly cmd: string,
    readonly result: ExecResult,
  ) {
    super(`${cmd}: ${result.stderr.trim() || `exit status ${result.code}`}`);
  }
}

/** Run a program and return its stdout; throws ExecError on a non-zero exit. */
export async function runOk(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new ExecError([cmd, ...args].join(' '), r);
  return r.stdout;
}
