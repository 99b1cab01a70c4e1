// Watches the static pod manifest directory: a rescan every 20 s (upstream's file check period) and
// soon after any change the kernel reports. Files that do not parse are skipped with a warning, as
// upstream does, so one bad manifest does not take the others down.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../api/log.ts';
import { parseManifest, staticPod } from './static-pods.ts';

const RESCAN_MS = 20_000;

export class ManifestSource {
  readonly pods = new Map<string, V1Pod>();
  private timer?: NodeJS.Timeout;
  private watcher?: FSWatcher;
  private pending?: NodeJS.Timeout;
  private seen = new Map<string, string>();

  constructor(
    private dir: string,
    private nodeName: string,
    private log: Logger,
    private onChange: (changed: string[]) => void,
  ) {}

  start(): void {
    // made up front so that the directory can be watched from the first manifest on
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch {
      /* read-only: rescans still work if it appears */
    }
    this.scan();
    this.timer = setInterval(() => this.scan(), RESCAN_MS);
    this.rewatch();
  }

  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.pending);
    this.watcher?.close();
  }

  private rewatch(): void {
    if (this.watcher || !existsSync(this.dir)) return;
    try {
      this.watcher = watch(this.dir, () => {
        clearTimeout(this.pending);
        this.pending = setTimeout(() => this.scan(), 100);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      /* the periodic rescan still works */
    }
  }

  /** Reads every manifest; returns the UIDs that appeared or went away. */
  scan(): string[] {
    this.rewatch();
    const next = new Map<string, V1Pod>();
    const files = existsSync(this.dir)
      ? readdirSync(this.dir)
          .filter((f) => !f.startsWith('.'))
          .sort()
      : [];
    for (const f of files) {
      const path = join(this.dir, f);
      try {
        if (!statSync(path).isFile()) continue;
        const text = readFileSync(path, 'utf8');
        for (const raw of parseManifest(text)) {
          const pod = staticPod(raw, this.nodeName, path);
          // the same manifest keeps its object (and the time it was first seen)
          next.set(pod.metadata!.uid!, this.pods.get(pod.metadata!.uid!) ?? pod);
        }
        this.seen.delete(path);
      } catch (err) {
        const msg = String((err as Error).message);
        if (this.seen.get(path) !== msg) this.log.warn({ file: path, err: msg }, 'static pod manifest skipped');
        this.seen.set(path, msg);
      }
    }
    const changed = [...new Set([...this.pods.keys(), ...next.keys()])].filter((uid) => this.pods.has(uid) !== next.has(uid));
    this.pods.clear();
    for (const [k, v] of next) this.pods.set(k, v);
    if (changed.length) this.onChange(changed);
    return changed;
  }
}
