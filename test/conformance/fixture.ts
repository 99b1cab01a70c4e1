// What every conformance-style test file shares: the cluster under test (from the environment the
// runner sets), a namespace of its own per test (created before, removed after), and kubectl
// helpers whose errors say what was asked and what the cluster answered, so a failing row in the
// report carries a reason a user can act on.
import test, { type ExecutionContext } from 'ava';
import { kubectl, type Run } from '../helpers/kubectl.ts';

/** The cluster the suite runs against, as the runner (or a user) exports it. */
export interface ClusterEnv {
  kubeconfig: string;
  /** busybox-based image serving its hostname over HTTP on 8080 (the lab's testapp) */
  image: string;
  /** a second image for tests that change a container's image (the lab's pause) */
  altImage: string;
  /** the netns lab's state directory, when the cluster is one (CRI sockets live there) */
  labDir?: string;
}

export const DEFAULT_IMAGE = 'registry.hawser.local/testapp:1.0';
export const DEFAULT_ALT_IMAGE = 'registry.hawser.local/pause:3.10';

export function clusterEnv(env: NodeJS.ProcessEnv = process.env): ClusterEnv | undefined {
  const kubeconfig = env.HAWSER_E2E_KUBECONFIG;
  if (!kubeconfig) return undefined;
  return {
    kubeconfig,
    image: env.HAWSER_E2E_IMAGE || DEFAULT_IMAGE,
    altImage: env.HAWSER_E2E_ALT_IMAGE || DEFAULT_ALT_IMAGE,
    labDir: env.HAWSER_E2E_LAB_DIR || undefined,
  };
}

/** kubectl bound to one kubeconfig and (optionally) one namespace. */
export class Kube {
  constructor(
    readonly kubeconfig: string,
    readonly ns?: string,
  ) {}

  private args(a: string[]): string[] {
    return this.ns ? ['-n', this.ns, ...a] : a;
  }

  /** Runs kubectl; never throws. */
  run(args: string[], input?: string): Run {
    return kubectl(this.kubeconfig, this.args(args), input);
  }

  /** Runs kubectl and returns stdout; throws with the command and kubectl's own message. */
  ok(args: string[], input?: string): string {
    const r = this.run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.map(short).join(' ')} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  json<T = any>(args: string[]): T {
    return JSON.parse(this.ok([...args, '-o', 'json'])) as T;
  }

  /** The object, or undefined when the API says NotFound. */
  get<T = any>(kind: string, name: string): T | undefined {
    const r = this.run(['get', kind, name, '-o', 'json']);
    if (r.code === 0) return JSON.parse(r.stdout) as T;
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${kind} ${name} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }

  /** Creates objects given as JSON values, sent as a multi-document stream. */
  create(...objects: object[]): string {
    return this.ok(['create', '-f', '-'], stream(objects));
  }
  apply(...objects: object[]): string {
    return this.ok(['apply', '-f', '-'], stream(objects));
  }

  /** `kubectl exec` into a pod's container; returns exit code and output, never throws. */
  exec(pod: string, cmd: string[], container?: string): Run {
    return this.run(['exec', pod, ...(container ? ['-c', container] : []), '--', ...cmd]);
  }

  /** An HTTP GET from inside a pod with busybox wget, bounded by `timeout`. */
  fetchFrom(pod: string, url: string, seconds = 5): Run {
    return this.exec(pod, ['timeout', String(seconds), 'wget', '-q', '-O-', url]);
  }
}

/** An argument as an error message shows it: long ones (a 20 kB echo) abbreviated. */
const short = (a: string) => (a.length > 120 ? `${a.slice(0, 60)}…(${a.length} chars)` : a);

// not a v1 List: kubectl validates a List against /openapi/v2, which not every server offers
export const stream = (objects: object[]): string => objects.map((o) => JSON.stringify(o)).join('\n---\n');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a value other than undefined/false; the error names what never happened. */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    await sleep(everyMs);
  }
}

/** One line on why a pod is not Ready: phase, container waiting/terminated reasons, events' gist. */
export function podDiagnosis(pod: any): string {
  if (!pod) return 'pod not found';
  const st = pod.status ?? {};
  const parts = [`phase=${st.phase ?? 'unknown'}`];
  if (!pod.spec?.nodeName) parts.push('not scheduled');
  const sched = (st.conditions ?? []).find((c: any) => c.type === 'PodScheduled' && c.status !== 'True');
  if (sched?.message) parts.push(`unschedulable: ${sched.message}`);
  for (const cs of st.containerStatuses ?? []) {
    const w = cs.state?.waiting,
      term = cs.state?.terminated;
    if (w) parts.push(`${cs.name} waiting ${w.reason ?? ''}${w.message ? `: ${w.message}` : ''}`);
    else if (term) parts.push(`${cs.name} terminated ${term.reason ?? ''} exit ${term.exitCode}`);
    else if (cs.state?.running && !cs.ready) parts.push(`${cs.name} running, not ready`);
  }
  return parts.join('; ');
}

/** Waits for pods to be Ready; on timeout the error says what each pod is doing. */
export async function waitReady(k: Kube, names: string[], timeoutMs = 90_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pods = names.map((n) => k.get('pod', n));
    const ready = (p: any) => (p?.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    if (pods.every(ready)) return pods;
    if (Date.now() > deadline) {
      const bad = names.map((n, i) => (ready(pods[i]) ? '' : `${n}: ${podDiagnosis(pods[i])}`)).filter(Boolean);
      throw new Error(`pods not Ready after ${Math.round(timeoutMs / 1000)} s: ${bad.join(' | ')}`);
    }
    await sleep(500);
  }
}

export interface Ctx {
  env: ClusterEnv;
  ns: string;
  /** kubectl in the test's namespace */
  k: Kube;
  /** kubectl without a namespace (cluster-scoped objects, -A listings) */
  kc: Kube;
}

type Body = (t: ExecutionContext, c: Ctx) => Promise<void> | void;
export type Declare = (title: string, body: Body) => void;

const rand = () => Math.random().toString(36).slice(2, 7);

/**
 * A test declarer for one file. Each test gets a fresh namespace `<prefix>-<random>` that is
 * removed after it, pass or fail. Without HAWSER_E2E_KUBECONFIG the tests are declared skipped,
 * as the other e2e files do: the runner (test/conformance/run.ts) always sets it.
 */
export function conformance(prefix: string, opts: { timeoutMs?: number } = {}): Declare {
  const env = clusterEnv();
  return (title, body) => {
    if (!env) {
      test.serial.skip(title, () => undefined);
      return;
    }
    test.serial(title, async (t) => {
      if (opts.timeoutMs) t.timeout(opts.timeoutMs);
      const ns = `${prefix}-${rand()}`;
      const kc = new Kube(env.kubeconfig);
      kc.ok(['create', 'namespace', ns]);
      t.teardown(() => {
        kc.run(['delete', 'namespace', ns, '--wait=false']);
      });
      await body(t, { env, ns, k: new Kube(env.kubeconfig, ns), kc });
    });
  };
}

/** Schedulable, Ready nodes by name (the lab's two workers, or any cluster's). */
export function readyNodes(kc: Kube): any[] {
  return (kc.json<any>(['get', 'nodes']).items as any[]).filter(
    (n) =>
      !n.spec?.unschedulable &&
      (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True') &&
      !(n.spec?.taints ?? []).some((x: any) => x.effect === 'NoSchedule' || x.effect === 'NoExecute'),
  );
}

export const internalIP = (node: any): string => (node.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address;
