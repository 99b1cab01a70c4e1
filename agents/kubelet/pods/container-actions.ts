// What one sync of a running pod must do to its containers, decided as upstream's computePodActions
// does: init containers one at a time in order (a failed one restarts per restartPolicy, or fails
// the pod under Never; sidecars, init containers with restartPolicy Always, must be started before
// the next), then app containers: start the missing, kill and restart those whose spec changed or
// whose liveness/startup probe failed, restart exited ones per restartPolicy after their back-off.
// Pure: the caller supplies runtime instances, probe verdicts and back-off state.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { goDuration } from './backoff.ts';
import { isSidecar, type Waiting } from './pod-status.ts';
import { podRef } from './security.ts';

export interface Instance {
  id: string;
  name: string;
  attempt: number;
  state: string;
  exitCode?: number;
  finishedAtMs?: number;
  hash: string;
}

export interface ActionInput {
  pod: V1Pod;
  /** instances in the current sandbox per container name, newest first */
  current: Map<string, Instance[]>;
  hash(c: V1Container): string;
  probeFailed(c: V1Container, id: string): 'liveness' | 'startup' | undefined;
  started(c: V1Container, id: string): boolean;
  /** back-off of a container that finished at finishedAtMs: ms left, and the current step */
  backoff(name: string, finishedAtMs: number): { remainingMs: number; currentMs: number };
}

export interface Kill {
  id: string;
  name: string;
  message: string;
}
export interface Start {
  container: V1Container;
  init: boolean /** restart right after a kill in this sync (no back-off) */;
  afterKill: boolean;
  finishedAtMs?: number;
}

export interface Actions {
  kill: Kill[];
  start: Start[];
  waiting: Map<string, Waiting>;
  /** containers that are waiting out a back-off (each gets a BackOff event) */
  backingOff: string[];
  requeueMs?: number;
}

/** An ephemeral container as the container it runs as (the same fields, plus targetContainerName). */
export const ephemeralSpecs = (pod: V1Pod): V1Container[] => pod.spec?.ephemeralContainers ?? [];

const running = (i: Instance | undefined) => i?.state === 'CONTAINER_RUNNING';
const exited = (i: Instance | undefined) => i?.state === 'CONTAINER_EXITED' || i?.state === 'CONTAINER_UNKNOWN';

export function computeActions(input: ActionInput): Actions {
  const { pod } = input;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  const out: Actions = { kill: [], start: [], waiting: new Map(), backingOff: [] };
  const latest = (name: string) => input.current.get(name)?.[0];

  /** Restart an exited container now, or report its back-off; returns whether it starts now. */
  const restartExited = (c: V1Container, inst: Instance, init: boolean): boolean => {
    const b = input.backoff(c.name, inst.finishedAtMs ?? 0);
    if (b.remainingMs > 0) {
      out.waiting.set(c.name, {
        reason: 'CrashLoopBackOff',
        message: `back-off ${goDuration(b.currentMs)} restarting failed container=${c.name} pod=${podRef(pod)}`,
      });
      out.backingOff.push(c.name);
      out.requeueMs = Math.min(out.requeueMs ?? Infinity, b.remainingMs);
      return false;
    }
    out.start.push({ container: c, init, afterKill: false, finishedAtMs: inst.finishedAtMs });
    return true;
  };

  /** Kill a running instance that must go; restart it when the policy allows. */
  const checkRunning = (c: V1Container, inst: Instance, init: boolean, mayRestart: boolean): boolean => {
    if (inst.hash && inst.hash !== input.hash(c)) {
      out.kill.push({ id: inst.id, name: c.name, message: `Container ${c.name} definition changed, will be restarted` });
      out.start.push({ container: c, init, afterKill: true });
      return true;
    }
    const failed = input.probeFailed(c, inst.id);
    if (failed) {
      out.kill.push({ id: inst.id, name: c.name, message: `Container ${c.name} failed ${failed} probe, will be restarted` });
      if (mayRestart) out.start.push({ container: c, init, afterKill: true });
      return true;
    }
    return false;
  };

  const appsHaveRun = (pod.spec?.containers ?? []).some((c) => (input.current.get(c.name) ?? []).length > 0);
  for (const c of pod.spec?.initContainers ?? []) {
    const inst = latest(c.name);
    if (isSidecar(c)) {
      if (!inst) {
        out.start.push({ container: c, init: true, afterKill: false });
        return out;
      }
      if (running(inst)) {
        if (checkRunning(c, inst, true, true)) return out;
        if (!appsHaveRun && !input.started(c, inst.id)) return out;
        continue;
      }
      if (exited(inst)) {
        restartExited(c, inst, true);
        if (!appsHaveRun) return out;
        continue;
      }
      out.kill.push({ id: inst.id, name: c.name, message: '' });
      out.start.push({ container: c, init: true, afterKill: true });
      return out;
    }
    if (appsHaveRun) continue;
    if (!inst) {
      out.start.push({ container: c, init: true, afterKill: false });
      return out;
    }
    if (running(inst)) return out;
    if (inst.state === 'CONTAINER_CREATED') {
      out.kill.push({ id: inst.id, name: c.name, message: '' });
      out.start.push({ container: c, init: true, afterKill: true });
      return out;
    }
    if (inst.state === 'CONTAINER_EXITED' && inst.exitCode === 0) continue;
    if (policy === 'Never') return out; // the pod has failed
    restartExited(c, inst, true);
    return out;
  }

  for (const c of pod.spec?.containers ?? []) {
    const inst = latest(c.name);
    if (!inst) {
      out.start.push({ container: c, init: false, afterKill: false });
      continue;
    }
    if (running(inst)) {
      checkRunning(c, inst, false, policy !== 'Never');
      continue;
    }
    if (inst.state === 'CONTAINER_CREATED') {
      out.kill.push({ id: inst.id, name: c.name, message: '' });
      out.start.push({ container: c, init: false, afterKill: true });
      continue;
    }
    const restart = policy === 'Always' || (policy === 'OnFailure' && (inst.state === 'CONTAINER_UNKNOWN' || inst.exitCode !== 0));
    if (restart) restartExited(c, inst, false);
  }
  // ephemeral containers (kubectl debug) start once the pod is initialized and never restart
  for (const c of ephemeralSpecs(pod)) if (!latest(c.name)) out.start.push({ container: c, init: false, afterKill: false });
  return out;
}
