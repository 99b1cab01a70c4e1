// Invoking a CNI plugin binary the way a runtime does: CNI_* environment, config on stdin, inside the
// given "host" namespace. Returns the parsed output along with the exit code.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../cni-plugins/pkg/exec.ts';

let seq = 0;

export const REFERENCE_BIN = '/usr/lib/cni';

export interface Invocation {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  /** extra or overriding environment (set a key to undefined to drop it) */
  env?: Record<string, string | undefined>;
}

export interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  json?: Record<string, unknown>;
  ms: number;
}

export async function invoke(binDir: string, plugin: string, hostNs: string | null, inv: Invocation, conf: unknown): Promise<Outcome> {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: inv.ifName ?? 'eth0',
    CNI_ARGS: inv.args,
    CNI_PATH: binDir,
    ...inv.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const stdin = typeof conf === 'string' ? conf : JSON.stringify(conf);
  const bin = `${binDir}/${plugin}`;
  // Real pipes for stdin and a file for stdout, as a Go runtime (containerd) gives its plugins; Node's
  // own child stdio are socketpairs, which the daemon cannot reach through /proc (the shim then falls
  // back to the one-shot plugin). The same wrapper runs around every flavour.
  const out = join(tmpdir(), `hawser-cni-out-${process.pid}-${seq++}`);
  const wrapper = ['sh', '-c', 'printf "%s" "$1" | "$2" > "$3"', 'sh', stdin, bin, out];
  const t0 = performance.now();
  const r = hostNs ? await run('nsenter', [`--net=/run/netns/${hostNs}`, ...wrapper], { env }) : await run(wrapper[0], wrapper.slice(1), { env });
  const ms = performance.now() - t0;
  r.stdout = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  let json: Record<string, unknown> | undefined;
  try {
    json = r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { exitCode: r.code, stdout: r.stdout, stderr: r.stderr, json, ms };
}
