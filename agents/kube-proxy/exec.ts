// The one door to the outside: run a tool with optional stdin, in this process's network namespace
// or (for tests and the lab) in a named one through nsenter.
import { spawn } from 'node:child_process';
import { SYSTEM_PATH } from '../api/system-path.ts';


export type Exec = (cmd: string, args: string[], input?: string) => Promise<string>;

export class ExecError extends Error {
  constructor(readonly cmd: string, readonly code: number | null, readonly stderr: string) {
    super(`${cmd} exited ${code}: ${stderr.trim().slice(0, 2000)}`);
  }
}

/** netns: a name under /run/netns, or a path to a namespace file. */
export function makeExec(netns?: string): Exec {
  const prefix = netns ? ['nsenter', `--net=${netns.includes('/') ? netns : `/run/netns/${netns}`}`, '--'] : [];
  return (cmd, args, input) => new Promise((resolve, reject) => {
    const argv = [...prefix, cmd, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PATH: SYSTEM_PATH } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new ExecError(cmd, code, Buffer.concat(err).toString() || Buffer.concat(out).toString()));
    });
    child.stdin.on('error', () => { /* the tool may exit before reading all input; close reports it */ });
    child.stdin.end(input ?? '');
  });
}
