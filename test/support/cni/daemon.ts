// Start and stop a hawser CNI daemon inside a test namespace, with its own run dir.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningDaemon {
  runDir: string;
  child: ChildProcess;
  /** what the daemon wrote to stderr so far */
  log(): string;
  stop(): Promise<void>;
}

export async function startDaemon(binDir: string, hostNs: string, runDir: string): Promise<RunningDaemon> {
  const child = spawn('nsenter', [`--net=/run/netns/${hostNs}`, process.execPath, join(binDir, 'cnid.cjs')], {
    env: { ...process.env, HAWSER_CNI_RUN_DIR: runDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  // ready once its netns link exists
  for (let i = 0; i < 100; i++) {
    const dirs = existsSync(runDir) ? readdirSync(runDir) : [];
    if (dirs.some((d) => existsSync(join(runDir, d, 'netns')))) {
      return {
        runDir,
        child,
        log: () => log,
        async stop() {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(t);
        },
      };
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`hawser CNI daemon did not start: ${log}`);
}
