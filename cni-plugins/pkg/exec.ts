// Running helper programs (ip, iptables-restore, nsenter, delegated plugins) without a shell, through
// the agents' one runner (agents/api/exec.ts); the plugins keep their own error wording, which their
// results carry to the runtime.
import { run as runTool, type ExecOptions as ToolOptions, type ExecResult } from '../../agents/api/exec.ts';

export type { ExecResult };

/** As the agents' options, but a plugin's tools inherit the environment containerd gave it. */
export type ExecOptions = Omit<ToolOptions, 'env'> & { env?: Record<string, string | undefined> };

/** Run a program to completion; never rejects for a non-zero exit (callers decide what failure means). */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const t0 = TRACE ? performance.now() : 0;
  const p = runTool(cmd, args, { ...opts, env: opts.env ?? process.env });
  if (TRACE) void p.then((r) => process.stderr.write(`hawser-cni trace: ${(performance.now() - t0).toFixed(1)} ms exit ${r.code}: ${cmd} ${args.join(' ')}\n`));
  return p;
}

// HAWSER_CNI_TRACE=1 logs every helper program run with its duration, to see where a verb's time goes.
const TRACE = !!process.env.HAWSER_CNI_TRACE;

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
