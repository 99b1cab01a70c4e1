// postStart and preStop lifecycle handlers: exec in the container, httpGet to the pod, or sleep.
// Failures carry upstream's message shape; the caller decides what a failure means (postStart: the
// container is killed; preStop: only an event).
import type { V1Container, V1LifecycleHandler, V1Pod } from '@kubernetes/client-node';
import { httpCheck, httpURL, type Outcome, type ProbeTarget } from './probers.ts';
import { podRef } from '../pods/security.ts';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Runs a handler; `timeoutSec` 0 means no limit of its own (postStart), preStop passes the grace period. */
export async function runHandler(
  pod: V1Pod,
  c: V1Container,
  h: V1LifecycleHandler,
  t: ProbeTarget,
  timeoutSec: number,
  signal?: AbortSignal,
): Promise<Outcome> {
  const where = `for Container ${JSON.stringify(c.name)} in Pod ${JSON.stringify(podRef(pod))}`;
  try {
    if (h.exec) {
      const cmd = h.exec.command ?? [];
      const r = await t.exec(t.containerId, cmd, timeoutSec);
      if (r.exitCode === 0) return { ok: true, output: r.output };
      return {
        ok: false,
        output: `Exec lifecycle hook (${JSON.stringify(cmd)}) ${where} failed - error: command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.output}, message: ${JSON.stringify(r.output)}`,
      };
    }
    if (h.httpGet) {
      const url = httpURL(h.httpGet, t.podIP, t.ports);
      const r = await httpCheck(url, h.httpGet.httpHeaders ?? [], (timeoutSec || 30) * 1000);
      return r.ok ? r : { ok: false, output: `HTTP lifecycle hook (${url.pathname}) ${where} failed - error: ${r.output}` };
    }
    if (h.sleep) {
      const s = timeoutSec ? Math.min(h.sleep.seconds, timeoutSec) : h.sleep.seconds;
      await sleep(s * 1000, signal);
      return { ok: true, output: '' };
    }
    return { ok: false, output: `lifecycle hook ${where} has no handler` };
  } catch (err) {
    return { ok: false, output: `lifecycle hook ${where} failed - error: ${(err as Error).message}` };
  }
}
