// Throwaway network namespaces for plugin tests: a "host" namespace per plugin flavour (so ours and
// the reference each get their own cni0 and sysctls) and container namespaces, all uniquely named
// and removed by `cleanup()` even after a failure.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOk } from '../../../cni-plugins/pkg/exec.ts';

export class Sandbox {
  readonly tag = randomBytes(3).toString('hex');
  readonly dir = mkdtempSync(join(tmpdir(), 'hawser-cni-'));
  private readonly namespaces: string[] = [];

  /** A new named netns (/run/netns/<name>) with lo up, registered for cleanup. */
  async netns(label: string): Promise<string> {
    const name = `hc-${label}-${this.tag}`.slice(0, 40);
    await runOk('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  path(name: string): string {
    return `/run/netns/${name}`;
  }

  /** Delete a namespace early (e.g. to test DEL of a vanished netns). */
  async dropNetns(name: string): Promise<void> {
    await run('ip', ['netns', 'del', name]);
    const i = this.namespaces.indexOf(name);
    if (i >= 0) this.namespaces.splice(i, 1);
  }

  async cleanup(): Promise<void> {
    // containers first, so veth peers vanish before their host namespaces
    for (const n of [...this.namespaces].reverse()) await run('ip', ['netns', 'del', n]);
    this.namespaces.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run a command inside a named namespace (nsenter keeps /sys as it is, unlike `ip netns exec`). */
export function inNs(ns: string, cmd: string, args: readonly string[], input?: string) {
  return run('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { input });
}
