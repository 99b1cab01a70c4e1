// Probe worker decisions (thresholds, initial results, hold after a kill, startup gating) and the
// probers' own logic that needs no network: ports, URLs, the gRPC health codec.
import test from 'ava';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../agents/kubelet/probes/grpc-health.ts';
import { freshState, notRunning, observe, shouldProbe, timing, type ProbeKind, type ProbeState } from '../../agents/kubelet/probes/probe-state.ts';
import { httpURL, resolvePort } from '../../agents/kubelet/probes/probers.ts';

const run = (kind: ProbeKind, outcomes: ('success' | 'failure')[], t = timing({ failureThreshold: 3, successThreshold: 1 }, kind), s0?: ProbeState) => {
  let s = s0 ?? freshState(kind, 'c1');
  const changes: string[] = [];
  for (const o of outcomes) {
    const r = observe(kind, s, o, t);
    s = r.state;
    if (r.changed) changes.push(s.result);
  }
  return { s, changes };
};

test('timing: the API defaults, and successThreshold 1 for liveness and startup', (t) => {
  t.deepEqual(timing({}, 'readiness'), { initialDelayMs: 0, periodMs: 10_000, timeoutSec: 1, successThreshold: 1, failureThreshold: 3 });
  t.is(timing({ successThreshold: 3 }, 'liveness').successThreshold, 1);
  t.is(timing({ successThreshold: 3 }, 'readiness').successThreshold, 3);
  t.is(timing({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 4 }, 'startup').initialDelayMs, 5000);
});

test('initial results: not ready, alive, startup unknown', (t) => {
  t.is(freshState('readiness', 'c').result, 'failure');
  t.is(freshState('liveness', 'c').result, 'success');
  t.is(freshState('startup', 'c').result, 'unknown');
  t.is(freshState('readiness', 'c', 'success').result, 'success', 'a kubelet restart may carry readiness over');
});

test('failureThreshold failures in a row flip liveness; a success in between resets the count', (t) => {
  t.deepEqual(run('liveness', ['failure', 'failure']).changes, []);
  t.deepEqual(run('liveness', ['failure', 'failure', 'success', 'failure', 'failure']).changes, []);
  const r = run('liveness', ['failure', 'failure', 'failure']);
  t.deepEqual(r.changes, ['failure']);
  t.true(r.s.onHold, 'the worker waits for the replacement container');
});

test('readiness needs successThreshold successes and is never put on hold', (t) => {
  const t3 = timing({ successThreshold: 2, failureThreshold: 1 }, 'readiness');
  t.deepEqual(run('readiness', ['success'], t3).changes, []);
  t.deepEqual(run('readiness', ['success', 'success'], t3).changes, ['success']);
  const r = run('readiness', ['success', 'success', 'failure', 'success', 'success'], t3);
  t.deepEqual(r.changes, ['success', 'failure', 'success']);
  t.false(r.s.onHold);
  t.is(notRunning('readiness', r.s).result, 'failure', 'a stopped container is not ready');
});

test('what is probed when: not running, on hold, before startup, in the initial delay', (t) => {
  const tm = timing({ initialDelaySeconds: 5 }, 'liveness');
  const s = freshState('liveness', 'c');
  const base = { running: true, startedAtMs: 0, now: 10_000, t: tm, startupDone: true, hasStartupProbe: false };
  t.is(shouldProbe('liveness', s, base), undefined);
  t.is(shouldProbe('liveness', s, { ...base, running: false }), 'not-running');
  t.is(shouldProbe('liveness', s, { ...base, now: 4_999 }), 'initial-delay');
  t.is(shouldProbe('liveness', { ...s, onHold: true }, base), 'on-hold');
  t.is(shouldProbe('liveness', s, { ...base, hasStartupProbe: true, startupDone: false }), 'waiting-for-startup');
  t.is(shouldProbe('startup', freshState('startup', 'c'), { ...base, hasStartupProbe: true, startupDone: true }), 'started');
});

test('ports: numbers, numeric strings and named container ports', (t) => {
  const ports = [{ name: 'http', containerPort: 8080 }];
  t.is(resolvePort(80, ports), 80);
  t.is(resolvePort('81', ports), 81);
  t.is(resolvePort('http', ports), 8080);
  t.throws(() => resolvePort('nope', ports), { message: "couldn't find port: nope" });
  t.is(httpURL({ port: 'http', path: 'healthz' }, '10.244.1.5', ports).href, 'http://10.244.1.5:8080/healthz');
  t.is(httpURL({ port: 8443, scheme: 'HTTPS', host: 'fd00::1' }, '10.244.1.5', ports).href, 'https://[fd00::1]:8443/');
});

test('grpc health codec: request service name, response status, unknown fields skipped', (t) => {
  t.is(decodeRequest(encodeRequest('my.Service')), 'my.Service');
  t.deepEqual([...encodeRequest('')], [0x0a, 0x00], 'an empty service is still a (non-empty) message');
  t.is(decodeResponse(encodeResponse(1)), 1);
  t.is(decodeResponse(encodeResponse(2)), 2);
  t.is(decodeResponse(Buffer.alloc(0)), 0, 'an empty message is UNKNOWN');
  t.is(decodeResponse(Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x01])), 1, 'a length-delimited field 2 is skipped');
});
