// Watches opened by the real kubectl (`kubectl get --raw '<path>?watch=1&...'` streams the API's
// newline-delimited watch events), collected so a test can wait for "the next N" and compare them;
// the error on timeout lists what did arrive. (@kubernetes/client-node 2.0.1 loads on Node 20 only
// with polyfills for its undici 8; kubectl needs none.)
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { KUBECTL } from '../helpers/kubectl.ts';
import { sleep } from './fixture.ts';

export interface WatchEvent {
  type: string;
  name: string;
  rv: string;
  data: Record<string, string> | undefined;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Watching {
  events: WatchEvent[];
  /** resolves with the next n events not yet consumed, once they arrived */
  next(n: number, timeoutMs?: number): Promise<WatchEvent[]>;
  /** waits `ms` and fails if any event beyond the consumed ones arrived */
  quiet(ms: number): Promise<WatchEvent[]>;
  stop(): void;
}

export function watchUrl(path: string, params: Record<string, string | undefined>): string {
  const q = new URLSearchParams({ watch: '1' });
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `${path}?${q.toString()}`;
}

/**
 * Opens a watch. Without a resourceVersion it starts from the collection's current one (read by a
 * list first), so events that happen while kubectl is still connecting are not lost.
 */
export async function openWatch(kubeconfig: string, path: string, params: Record<string, string | undefined>): Promise<Watching> {
  if (params.resourceVersion === undefined) {
    const list = execFileSync(KUBECTL, ['get', '--raw', path], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 30_000 });
    params = { ...params, resourceVersion: JSON.parse(list).metadata.resourceVersion };
  }
  const url = watchUrl(path, params);
  const child = spawn(KUBECTL, ['get', '--raw', url], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: WatchEvent[] = [];
  let ended = '';
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.on('exit', (code) => {
    ended = `kubectl exited (${code})${stderr ? `: ${stderr.trim()}` : ''}`;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.trim()) return;
    try {
      const e = JSON.parse(line);
      const o = e.object ?? {};
      events.push({
        type: e.type,
        name: o.metadata?.name,
        rv: o.metadata?.resourceVersion,
        data: o.data,
        labels: o.metadata?.labels ?? {},
        annotations: o.metadata?.annotations ?? {},
      });
    } catch {
      events.push({ type: 'UNPARSEABLE', name: line.slice(0, 80), rv: '', data: undefined, labels: {} });
    }
  });
  await sleep(200); // a refused request (bad resourceVersion, no such path) ends kubectl at once
  if (ended) throw new Error(`watch ${url}: ${ended}`);
  let consumed = 0;
  const show = (es: WatchEvent[]) => es.map((e) => `${e.type} ${e.name}@${e.rv}`).join(', ') || 'none';
  return {
    events,
    async next(n, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < consumed + n) {
        if (Date.now() > deadline) throw new Error(`watch ${url}: wanted ${n} more events, got ${show(events.slice(consumed))}${ended ? ` (${ended})` : ''}`);
        await sleep(50);
      }
      const out = events.slice(consumed, consumed + n);
      consumed += n;
      return out;
    },
    async quiet(ms) {
      await sleep(ms);
      const extra = events.slice(consumed);
      if (extra.length) throw new Error(`watch ${url}: unexpected events ${show(extra)}`);
      return extra;
    },
    stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
    },
  };
}

/** The events a 2-second watch of `path` from resourceVersion `rv` (label-selected) replays, as upstream's API-operations tests read them. */
export function replayed(kc: { ok(args: string[]): string }, path: string, rv: string, labelSelector: string): { type: string; object: any }[] {
  return kc
    .ok(['get', '--raw', `${path}?watch=1&resourceVersion=${rv}&labelSelector=${encodeURIComponent(labelSelector)}&timeoutSeconds=2`])
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: any });
}
