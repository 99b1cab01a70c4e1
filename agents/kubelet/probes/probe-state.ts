// The decisions of one probe worker (one probe of one container), as upstream's prober worker makes
// them. Pure: the manager feeds it what it observed and acts on what it answers.
//  - a new container instance starts from the probe's initial result: readiness Failure (not ready
//    until proven), liveness Success (alive until proven dead), startup Unknown;
//  - a result only takes effect after failureThreshold failures or successThreshold successes in a
//    row;
//  - a liveness or startup failure that takes effect puts the worker on hold until the container is
//    replaced, so that one bad instance is killed once;
//  - liveness and readiness wait until the startup probe (if any) has succeeded; nothing is probed
//    before initialDelaySeconds have passed since the container started.
import type { V1Probe } from '@kubernetes/client-node';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeState {
  containerId: string;
  /** the result in effect */
  result: ProbeResult;
  /** the last raw outcome and how many times in a row it came */
  last?: ProbeResult;
  run: number;
  onHold: boolean;
}

export const initialResult = (kind: ProbeKind): ProbeResult => (kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : 'unknown');

export function freshState(kind: ProbeKind, containerId: string, inherited?: ProbeResult): ProbeState {
  return { containerId, result: inherited ?? initialResult(kind), run: 0, onHold: false };
}

export interface Timing {
  initialDelayMs: number;
  periodMs: number;
  timeoutSec: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The probe's timing fields with the API's defaults (period 10 s, timeout 1 s, thresholds 1 and 3). */
export function timing(p: V1Probe, kind: ProbeKind): Timing {
  return {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, p.periodSeconds ?? 10) * 1000,
    timeoutSec: Math.max(1, p.timeoutSeconds ?? 1),
    // liveness and startup probes must have successThreshold 1
    successThreshold: kind === 'readiness' ? Math.max(1, p.successThreshold ?? 1) : 1,
    failureThreshold: Math.max(1, p.failureThreshold ?? 3),
  };
}

export type Skip = 'not-running' | 'on-hold' | 'waiting-for-startup' | 'started' | 'initial-delay';

/** Whether to run the probe now, and if not, why. */
export function shouldProbe(
  kind: ProbeKind,
  s: ProbeState,
  o: {
    running: boolean;
    startedAtMs: number;
    now: number;
    t: Timing;
    startupDone: boolean;
    hasStartupProbe: boolean;
  },
): Skip | undefined {
  if (!o.running) return 'not-running';
  if (s.onHold) return 'on-hold';
  if (kind === 'startup' && o.startupDone) return 'started';
  if (kind !== 'startup' && o.hasStartupProbe && !o.startupDone) return 'waiting-for-startup';
  if (o.now - o.startedAtMs < o.t.initialDelayMs) return 'initial-delay';
  return undefined;
}

/** Folds one probe outcome into the state; `changed` says the result in effect flipped. */
export function observe(kind: ProbeKind, s: ProbeState, outcome: 'success' | 'failure', t: Timing): { state: ProbeState; changed: boolean; act: boolean } {
  const run = s.last === outcome ? s.run + 1 : 1;
  const next: ProbeState = { ...s, last: outcome, run };
  const threshold = outcome === 'failure' ? t.failureThreshold : t.successThreshold;
  if (run < threshold) return { state: next, changed: false, act: false };
  const changed = s.result !== outcome;
  next.result = outcome;
  // a liveness/startup failure gets the container killed: wait for the next instance
  if (outcome === 'failure' && kind !== 'readiness') return { state: { ...next, onHold: true, run: 0 }, changed, act: true };
  return { state: next, changed, act: changed };
}

/** A container that is not running is not ready; its startup is unknown again. */
export function notRunning(kind: ProbeKind, s: ProbeState): ProbeState {
  if (kind === 'readiness') return { ...s, result: 'failure', last: undefined, run: 0 };
  return s;
}
