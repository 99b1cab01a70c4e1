// Shared by the node conformance e2e files: each brings up its own lab (name and /24 of its own),
// runs the real kubectl v1.35 asynchronously (so that tests of one file run side by side), gives
// every test its own namespace, and polls with bounded waits.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import type { ExecutionContext } from 'ava';
import { labDown, savedOptions } from '../../../agents/cli/lab/down.ts';
import { waitFor } from '../../../agents/cli/lab/procs.ts';
import { imageRef, labUp, repoFromBin } from '../../../agents/cli/lab/up.ts';
import { topology, type Lab } from '../../../agents/cli/lab/topology.ts';
import WebSocket from 'ws';
import { loadKubeconfig } from '../../../agents/api/kubeconfig.ts';
import { KUBECTL, type Run } from '../../helpers/kubectl.ts';

/** HAWSER_BIN lets a run use another bundle (e.g. one built elsewhere); default the repo's own. */
export const bin = resolve(process.env.HAWSER_BIN ?? 'dist/hawser.cjs');

export interface NodeLab {
  lab: Lab;
  kc: string;
  testapp: string;
  pause: string;
}

/** The cluster given to the suite (the conformance runner sets it), if any. */
const given = process.env.HAWSER_E2E_KUBECONFIG;

/**
 * The file's lab: the cluster of HAWSER_E2E_KUBECONFIG when one is given (a netns lab's admin
 * kubeconfig, so that tests which restart node processes know the lab), else a fresh lab of its own.
 */
export async function upLab(name: string, subnet: string): Promise<NodeLab> {
  if (given) return givenLab(given);
  const opts = { name, subnet, workers: 2, stateRoot: '/var/lib/hawser-lab' };
  await labDown(opts); // leftovers of an interrupted run
  const lab = await labUp({ ...opts, bin, repo: repoFromBin(bin), demo: false, quiet: true });
  return { lab, kc: lab.adminKubeconfig, testapp: imageRef(lab, 'testapp', '1.0'), pause: imageRef(lab, 'pause', '3.10') };
}

/** A given cluster is left as it was found; only a lab of the file's own is removed. */
export const downLab = async (name: string, subnet: string) => {
  if (!given) await labDown({ name, subnet, workers: 2, stateRoot: '/var/lib/hawser-lab' });
};

function givenLab(kc: string): NodeLab {
  const dir = dirname(dirname(resolve(kc))); // <stateRoot>/<name>/server/admin.kubeconfig
  const opts = savedOptions(dirname(dir), basename(dir));
  if (!opts) {
    // any other cluster: the tests that use only kubectl run; those that reach into the nodes say why not
    const lab = new Proxy({} as Lab, {
      get: () => {
        throw new Error(`${kc} is not a hawser netns lab's kubeconfig: this test restarts or inspects node processes`);
      },
    });
    return {
      lab,
      kc,
      testapp: process.env.HAWSER_E2E_IMAGE ?? 'registry.hawser.local/testapp:1.0',
      pause: process.env.HAWSER_E2E_ALT_IMAGE ?? 'registry.hawser.local/pause:3.10',
    };
  }
  const lab = topology(opts);
  return { lab, kc, testapp: imageRef(lab, 'testapp', '1.0'), pause: imageRef(lab, 'pause', '3.10') };
}

/** What a client reads on stdin: all at once then EOF, or text whose EOF waits until stdout shows `endWhen` (a user at a terminal). */
export type ClientInput = string | { text: string; endWhen: RegExp };

/** A client binary (kubectl, helm) without blocking the event loop, bounded to `timeoutMs`. */
export function runClient(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: ClientInput, timeoutMs = 120_000): Promise<Run> {
  return new Promise((res) => {
    const p = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const held = typeof input === 'object' ? input : undefined;
    p.stdout.on('data', (d) => {
      stdout += d;
      if (held && held.endWhen.test(stdout)) p.stdin.end();
    });
    p.stderr.on('data', (d) => (stderr += d));
    p.stdin.on('error', () => undefined); // the client may exit before its stdin ends
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
    if (held) p.stdin.write(held.text);
    else p.stdin.end(input ?? '');
  });
}

/** kubectl without blocking the event loop, bounded to `timeoutMs`. */
export const kubectl = (kc: string, args: string[], input?: ClientInput, timeoutMs = 120_000): Promise<Run> =>
  runClient(KUBECTL, args, { KUBECONFIG: kc }, input, timeoutMs);

export async function kubectlOk(kc: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(kc, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function kubectlJson<T = any>(kc: string, args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk(kc, [...args, '-o', 'json'])) as T;
}

/** Polls until `fn` returns a truthy value (a thrown error counts as not yet). */
export const eventually = <T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs = 60_000, everyMs = 500): Promise<T> =>
  waitFor(what, async () => (await fn()) ?? undefined, timeoutMs, everyMs);

/** Runs at most `n` tests' bodies at once, so a 2-core machine is not swamped. */
export function limiter(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    while (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** A fresh namespace for one test, deleted (without waiting) when the test ends. */
export async function namespace(t: ExecutionContext, kc: string): Promise<string> {
  const ns = `t-${randomBytes(4).toString('hex')}`;
  await kubectlOk(kc, ['create', 'namespace', ns]);
  t.teardown(async () => {
    await kubectl(kc, ['delete', 'namespace', ns, '--wait=false']);
  });
  return ns;
}

/**
 * What upstream's e2e websocket helper (OpenWebSocketForURL) reads: a WebSocket to `path` with
 * the kubeconfig's identity offering `protocols`, every message until the server closes, bounded.
 */
export function wsMessages(kc: string, path: string, protocols: string[], timeoutMs = 30_000): Promise<{ protocol: string; messages: Buffer[] }> {
  const { server, ca, cert, key, token } = loadKubeconfig(kc);
  const ws = new WebSocket(`${server.replace(/^http/, 'ws')}${path}`, protocols, { ca, cert, key, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return new Promise((resolve, reject) => {
    const messages: Buffer[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${path}: not closed within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('message', (m: Buffer) => messages.push(m));
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`${path}: upgrade refused with ${res.statusCode}`));
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve({ protocol: ws.protocol, messages });
    });
  });
}

export class Cluster {
  constructor(
    readonly kc: string,
    readonly ns: string,
  ) {}
  apply(yaml: string) {
    return kubectlOk(this.kc, ['-n', this.ns, 'apply', '-f', '-'], yaml);
  }
  run(args: string[], input?: ClientInput) {
    return kubectl(this.kc, ['-n', this.ns, ...args], input);
  }
  ok(args: string[], input?: string) {
    return kubectlOk(this.kc, ['-n', this.ns, ...args], input);
  }
  pod(name: string): Promise<any> {
    return kubectlJson(this.kc, ['-n', this.ns, 'get', 'pod', name]);
  }
  async waitPod(name: string, what: string, pred: (p: any) => unknown, timeoutMs = 60_000): Promise<any> {
    return eventually(
      `pod ${name} ${what}`,
      async () => {
        const p = await this.pod(name);
        return pred(p) ? p : undefined;
      },
      timeoutMs,
    );
  }
  waitRunning(name: string, timeoutMs = 60_000) {
    return this.waitPod(
      name,
      'Running and Ready',
      (p) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      timeoutMs,
    );
  }
  waitPhase(name: string, phase: string, timeoutMs = 60_000) {
    return this.waitPod(name, `in phase ${phase}`, (p) => p.status?.phase === phase, timeoutMs);
  }
  /** Events about one pod, oldest first, as "Reason: message" lines. */
  async events(pod: string): Promise<{ reason: string; message: string; type: string; count: number; fieldPath?: string; source?: string }[]> {
    const list = await kubectlJson(this.kc, ['-n', this.ns, 'get', 'events', '--field-selector', `involvedObject.name=${pod}`]);
    return (list.items as any[])
      .sort((a, b) => String(a.firstTimestamp).localeCompare(String(b.firstTimestamp)))
      .map((e) => ({
        reason: e.reason,
        message: e.message,
        type: e.type,
        count: e.count,
        fieldPath: e.involvedObject?.fieldPath,
        source: e.source?.component,
      }));
  }
  async exec(pod: string, cmd: string[], container?: string): Promise<Run> {
    return this.run(['exec', pod, ...(container ? ['-c', container] : []), '--', ...cmd]);
  }
}

export const cstatus = (p: any, name: string) =>
  [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find((s: any) => s.name === name);
export const condition = (p: any, type: string) => p.status?.conditions?.find((c: any) => c.type === type);
