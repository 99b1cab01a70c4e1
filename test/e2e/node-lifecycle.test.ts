// [sig-node] pod lifecycle on a fresh two-node lab with the real kubectl v1.35: probes (exec,
// httpGet, tcpSocket, grpc, startup), init containers, restart policies and CrashLoopBackOff,
// termination messages, lifecycle hooks, graceful termination, OOM kills and image pulls. Each test
// is named after the upstream conformance test it mirrors and runs in its own namespace.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Cluster, condition, cstatus, downLab, eventually, limiter, namespace, upLab, wsMessages, type NodeLab } from './helpers/node-e2e.ts';

const LAB = ['node', '10.79.0.0/24'] as const;
let L: NodeLab;
const lane = limiter(6);

test.before(async () => {
  const t0 = Date.now();
  L = await upLab(...LAB);
  console.error(`lab up ${Date.now() - t0} ms`);
});
test.after.always(async () => {
  const t0 = Date.now();
  await downLab(...LAB);
  console.error(`lab down ${Date.now() - t0} ms`);
});

type Spec = Record<string, unknown>;
const pod = (name: string, containers: Spec[], spec: Spec = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: containers.map((c) => ({ name: 'c', image: L.testapp, ...c })), ...spec },
  });
const sh = (script: string) => ({ command: ['sh', '-c', script] });

/** A test body with its own namespace and a concurrency slot. */
const it = (name: string, body: (c: Cluster, t: import('ava').ExecutionContext) => Promise<void>) =>
  test(name, async (t) => {
    const ns = await namespace(t, L.kc);
    await lane(() => body(new Cluster(L.kc, ns), t));
  });

it('[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod('liveness-exec', [
      {
        ...sh('touch /tmp/health; sleep 1; rm -f /tmp/health; sleep 600'),
        livenessProbe: { exec: { command: ['cat', '/tmp/health'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
      },
    ]),
  );
  const p = await c.waitPod('liveness-exec', 'restarted', (x) => cstatus(x, 'c')?.restartCount >= 1, 40_000);
  t.is(p.status.phase, 'Running');
  const ev = await c.events('liveness-exec');
  t.true(
    ev.some((e) => e.reason === 'Unhealthy' && /^Liveness probe failed: cat: can't open '\/tmp\/health'/.test(e.message)),
    JSON.stringify(ev),
  );
  t.true(ev.some((e) => e.reason === 'Killing' && e.message === 'Container c failed liveness probe, will be restarted'));
  t.true(ev.every((e) => !e.fieldPath || e.fieldPath === 'spec.containers{c}'));
});

it('[sig-node] Probing container with readiness probe should not be ready before initial delay and never restart [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('readiness-delay', [{ readinessProbe: { exec: { command: ['true'] }, initialDelaySeconds: 3, periodSeconds: 1 } }]));
  const p = await c.waitRunning('readiness-delay', 40_000);
  const started = Date.parse(cstatus(p, 'c').state.running.startedAt);
  const ready = Date.parse(condition(p, 'Ready').lastTransitionTime);
  // the API's times have second resolution
  t.true(ready - started >= 2000, `ready ${ready - started} ms after start, initialDelaySeconds is 3`);
  t.is(cstatus(p, 'c').restartCount, 0);
  t.true(cstatus(p, 'c').started);
});

it('[sig-node] Probing container with readiness probe that fails should never be ready and never restart [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('readiness-fail', [{ readinessProbe: { exec: { command: ['false'] }, periodSeconds: 1 } }]));
  await c.waitPhase('readiness-fail', 'Running');
  await eventually(
    'three failed readiness probes',
    async () => (await c.events('readiness-fail')).find((e) => e.reason === 'Unhealthy' && e.count >= 3),
    20_000,
  );
  const p = await c.pod('readiness-fail');
  t.false(cstatus(p, 'c').ready);
  t.is(cstatus(p, 'c').restartCount, 0);
  t.like(condition(p, 'Ready'), { status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [c]' });
  t.regex(await c.ok(['get', 'pod', 'readiness-fail']), /readiness-fail\s+0\/1\s+Running\s+0/);
});

it('[sig-node] Probing container should be restarted with a /healthz http liveness probe [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod('liveness-http', [
      {
        ports: [{ name: 'web', containerPort: 8080 }],
        livenessProbe: { httpGet: { path: '/not-healthz', port: 'web' }, periodSeconds: 1, failureThreshold: 2 },
      },
    ]),
  );
  await c.waitPod('liveness-http', 'restarted', (x) => cstatus(x, 'c')?.restartCount >= 1, 40_000);
  const ev = await c.events('liveness-http');
  t.true(
    ev.some((e) => e.reason === 'Unhealthy' && e.message === 'Liveness probe failed: HTTP probe failed with statuscode: 404'),
    JSON.stringify(ev),
  );
});

it('[sig-node] Probing container should *not* be restarted with a tcp:8080 liveness probe [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('liveness-tcp', [{ livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }]));
  await c.waitRunning('liveness-tcp');
  await new Promise((r) => setTimeout(r, 4000)); // four probe periods
  const p = await c.pod('liveness-tcp');
  t.is(cstatus(p, 'c').restartCount, 0);
  t.false((await c.events('liveness-tcp')).some((e) => e.reason === 'Unhealthy'));
});

it('[sig-node] Probing container should be restarted with a GRPC liveness probe [NodeConformance]', async (c, t) => {
  // port 8080 speaks HTTP/1.1, not gRPC: every Health/Check fails
  await c.apply(pod('liveness-grpc', [{ livenessProbe: { grpc: { port: 8080 }, periodSeconds: 1, failureThreshold: 1, timeoutSeconds: 1 } }]));
  await c.waitPod('liveness-grpc', 'restarted', (x) => cstatus(x, 'c')?.restartCount >= 1, 40_000);
  const ev = await c.events('liveness-grpc');
  t.true(
    ev.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed: ')),
    JSON.stringify(ev),
  );
});

it('[sig-node] Probing container should be restarted startup probe fails [NodeConformance]', async (c, t) => {
  await c.apply(
    pod('startup-fail', [
      {
        startupProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 },
        livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
      },
    ]),
  );
  await c.waitPod('startup-fail', 'restarted', (x) => cstatus(x, 'c')?.restartCount >= 1, 40_000);
  const p = await c.pod('startup-fail');
  t.false(cstatus(p, 'c').started);
  t.true((await c.events('startup-fail')).some((e) => e.reason === 'Killing' && e.message === 'Container c failed startup probe, will be restarted'));
});

it('[sig-node] Probing container should be ready immediately after startupProbe succeeds [NodeConformance]', async (c, t) => {
  await c.apply(
    pod('startup-ready', [
      {
        ...sh('sleep 3; touch /tmp/startup; sleep 600'),
        startupProbe: { exec: { command: ['cat', '/tmp/startup'] }, periodSeconds: 1, failureThreshold: 60 },
        // a readiness period far longer than the test: only the probe run at startup success can make it ready
        readinessProbe: { exec: { command: ['true'] }, periodSeconds: 60 },
      },
    ]),
  );
  const p = await c.waitRunning('startup-ready', 30_000);
  const started = Date.parse(cstatus(p, 'c').state.running.startedAt);
  const ready = Date.parse(condition(p, 'Ready').lastTransitionTime);
  t.true(ready - started >= 2000 && ready - started <= 8000, `ready ${ready - started} ms after start`);
  t.true(cstatus(p, 'c').started);
});

it('[sig-node] InitContainer [NodeConformance] should invoke init containers on a RestartAlways pod [Conformance]', async (c, t) => {
  const mount = { volumeMounts: [{ name: 'work', mountPath: '/work' }] };
  await c.apply(
    pod('init-always', [{ ...sh('cat /work/order; sleep 600'), ...mount }], {
      initContainers: [
        { name: 'init1', image: L.testapp, ...sh('echo init1 >> /work/order; sleep 1'), ...mount },
        { name: 'init2', image: L.testapp, ...sh('echo init2 >> /work/order'), ...mount },
      ],
      volumes: [{ name: 'work', emptyDir: {} }],
    }),
  );
  const p = await c.waitRunning('init-always', 40_000);
  t.deepEqual(
    p.status.initContainerStatuses.map((s: any) => [s.name, s.state.terminated?.reason, s.state.terminated?.exitCode]),
    [
      ['init1', 'Completed', 0],
      ['init2', 'Completed', 0],
    ],
  );
  const [i1, i2] = p.status.initContainerStatuses;
  t.true(Date.parse(i2.state.terminated.startedAt) >= Date.parse(i1.state.terminated.finishedAt), 'init2 started after init1 finished');
  t.true(Date.parse(cstatus(p, 'c').state.running.startedAt) >= Date.parse(i2.state.terminated.finishedAt), 'the app started after the init containers');
  t.is(condition(p, 'Initialized').status, 'True');
  t.is((await c.ok(['logs', 'init-always', '-c', 'c'])).trim(), 'init1\ninit2');
});

it('[sig-node] InitContainer [NodeConformance] should not start app containers and fail the pod if init containers fail on a RestartNever pod [Conformance]', async (c, t) => {
  await c.apply(
    pod('init-fail', [{}], {
      restartPolicy: 'Never',
      initContainers: [
        { name: 'init1', image: L.testapp, ...sh('exit 1') },
        { name: 'init2', image: L.testapp, ...sh('true') },
      ],
    }),
  );
  const p = await c.waitPhase('init-fail', 'Failed', 40_000);
  t.like(cstatus(p, 'init1').state.terminated, { exitCode: 1, reason: 'Error' });
  t.is(cstatus(p, 'init2').state.waiting.reason, 'PodInitializing');
  t.is(cstatus(p, 'c').state.waiting.reason, 'PodInitializing');
  t.like(condition(p, 'Initialized'), { status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [init1 init2]' });
  t.regex(await c.ok(['get', 'pod', 'init-fail']), /Init:Error/);
});

it('[sig-node] Container Runtime blackbox test when starting a container that exits should run with the expected status [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    [
      pod('terminate-cmd-rpa', [sh('exit 1')], { restartPolicy: 'Always' }),
      pod('terminate-cmd-rpof', [sh('exit 0')], { restartPolicy: 'OnFailure' }),
      pod('terminate-cmd-rpn', [sh('exit 1')], { restartPolicy: 'Never' }),
    ].join('\n'),
  );
  const always = await c.waitPod('terminate-cmd-rpa', 'restarted', (x) => cstatus(x, 'c')?.restartCount >= 1, 40_000);
  t.is(always.status.phase, 'Running');
  const onFailure = await c.waitPhase('terminate-cmd-rpof', 'Succeeded');
  t.like(cstatus(onFailure, 'c'), { restartCount: 0, ready: false });
  t.like(cstatus(onFailure, 'c').state.terminated, { exitCode: 0, reason: 'Completed' });
  const never = await c.waitPhase('terminate-cmd-rpn', 'Failed');
  t.like(cstatus(never, 'c').state.terminated, { exitCode: 1, reason: 'Error' });
  t.is(cstatus(never, 'c').restartCount, 0);
});

it('[sig-node] Kubelet when scheduling a busybox command that always fails in a pod should have an terminated reason [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('bin-false', [sh('echo "run $(date +%s)"; exit 1')]));
  const p = await c.waitPod(
    'bin-false',
    'in CrashLoopBackOff after two restarts',
    (x) => cstatus(x, 'c')?.restartCount >= 2 && cstatus(x, 'c').state.waiting,
    60_000,
  );
  const s = cstatus(p, 'c');
  t.is(s.state.waiting.reason, 'CrashLoopBackOff');
  t.regex(s.state.waiting.message, /^back-off (10|20)s restarting failed container=c pod=bin-false_t-[0-9a-f]+\(/);
  t.like(s.lastState.terminated, { exitCode: 1, reason: 'Error' });
  t.regex(await c.ok(['get', 'pod', 'bin-false']), /bin-false\s+0\/1\s+CrashLoopBackOff\s+2/);
  const ev = await c.events('bin-false');
  t.true(ev.some((e) => e.reason === 'BackOff' && e.type === 'Warning' && /^Back-off restarting failed container c in pod bin-false_/.test(e.message)));
  // kubectl logs --previous: the crashed run before the current one
  const prev = (await c.ok(['logs', 'bin-false', '--previous'])).trim();
  const cur = (await c.ok(['logs', 'bin-false'])).trim();
  t.regex(prev, /^run \d+$/);
  t.regex(cur, /^run \d+$/);
  t.true(Number(cur.split(' ')[1]) > Number(prev.split(' ')[1]), 'the previous run is older');
  t.true(Number(cur.split(' ')[1]) - Number(prev.split(' ')[1]) >= 9, 'the second restart waited out the 10 s back-off');
});

it('[sig-node] Container Runtime blackbox test on terminated container should report termination message from log output if TerminationMessagePolicy FallbackToLogsOnError is set [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod('term-logs', [{ ...sh('echo first; echo -n DONE; exit 1'), terminationMessagePolicy: 'FallbackToLogsOnError' }], { restartPolicy: 'Never' }),
  );
  const p = await c.waitPhase('term-logs', 'Failed');
  t.is(cstatus(p, 'c').state.terminated.message, 'first\nDONE');
});

it('[sig-node] Container Runtime blackbox test on terminated container should report termination message if TerminationMessagePath is set as non-root user and at a non-default path [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(
    pod(
      'term-path',
      [
        {
          ...sh('echo -n DONE > /dev/termination-custom-log'),
          terminationMessagePath: '/dev/termination-custom-log',
          securityContext: { runAsUser: 1000 },
        },
      ],
      { restartPolicy: 'Never' },
    ),
  );
  const p = await c.waitPhase('term-path', 'Succeeded');
  t.is(cstatus(p, 'c').state.terminated.message, 'DONE');
});

it('[sig-node] Container Lifecycle Hook when create a pod with lifecycle hook should execute poststart exec hook properly [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('poststart', [{ lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo poststart > /tmp/hook'] } } } }]));
  await c.waitRunning('poststart');
  t.is((await c.exec('poststart', ['cat', '/tmp/hook'])).stdout, 'poststart\n');
});

it('[sig-node] Container Lifecycle Hook when create a pod with lifecycle hook should execute prestop exec hook properly [NodeConformance] [Conformance]', async (c, t) => {
  const dir = mkdtempSync('/tmp/hawser-e2e-prestop-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await c.apply(
    pod(
      'prestop',
      [
        {
          ...sh('trap "echo term >> /data/log; exit 0" TERM; while true; do sleep 0.2; done'),
          lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /data/log; sleep 1'] } } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      { terminationGracePeriodSeconds: 20, volumes: [{ name: 'data', hostPath: { path: dir, type: 'DirectoryOrCreate' } }] },
    ),
  );
  await c.waitRunning('prestop');
  await c.ok(['delete', 'pod', 'prestop', '--timeout=60s']);
  t.is(readFileSync(`${dir}/log`, 'utf8'), 'prestop\nterm\n', 'the preStop hook ran, then the container got SIGTERM');
});

it('[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]', async (c, t) => {
  // a container that ignores SIGTERM is killed when terminationGracePeriodSeconds runs out
  await c.apply(pod('graceful', [sh('trap "" TERM; while true; do sleep 0.2; done')], { terminationGracePeriodSeconds: 3 }));
  const p = await c.waitRunning('graceful');
  const began = Date.now();
  await c.ok(['delete', 'pod', 'graceful', '--timeout=60s']);
  const took = Date.now() - began;
  t.true(took >= 2500 && took < 15_000, `deletion took ${took} ms with a 3 s grace period`);
  t.is((await c.run(['get', 'pod', 'graceful'])).code, 1);
  t.truthy(p.metadata.uid);
});

it('[sig-node] OOMKiller [LinuxOnly] [NodeConformance] The containers terminated due to OutOfMemory should have the reason set to OOMKilled', async (c, t) => {
  await c.apply(pod('oom', [{ ...sh('tail /dev/zero'), resources: { limits: { memory: '20Mi' } } }], { restartPolicy: 'Never' }));
  const p = await c.waitPhase('oom', 'Failed', 40_000);
  t.like(cstatus(p, 'c').state.terminated, { reason: 'OOMKilled', exitCode: 137 });
  t.regex(await c.ok(['get', 'pod', 'oom']), /oom\s+0\/1\s+OOMKilled/);
});

it('[sig-node] Container Runtime blackbox test when running a container with a new image should not be able to pull image from invalid registry [NodeConformance]', async (c, t) => {
  const image = `${L.lab.bridgeIP}:5999/invalid/alpine:3.1`;
  await c.apply(pod('bad-registry', [{ image }]));
  const first = await c.waitPod(
    'bad-registry',
    'ErrImagePull',
    (x) => /ErrImagePull|ImagePullBackOff/.test(cstatus(x, 'c')?.state?.waiting?.reason ?? ''),
    30_000,
  );
  t.is(first.status.phase, 'Pending');
  const p = await c.waitPod('bad-registry', 'ImagePullBackOff', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'ImagePullBackOff', 30_000);
  t.is(cstatus(p, 'c').state.waiting.message, `Back-off pulling image "${image}"`);
  const ev = await c.events('bad-registry');
  t.true(
    ev.some((e) => e.reason === 'Failed' && e.message.startsWith(`Failed to pull image "${image}": rpc error: code = `)),
    JSON.stringify(ev),
  );
  t.true(ev.some((e) => e.reason === 'Failed' && e.message === 'Error: ErrImagePull'));
  t.true(ev.some((e) => e.reason === 'BackOff' && e.message === `Back-off pulling image "${image}"`));
});

it('[sig-node] Container Runtime blackbox test when running a container with a new image should be able to pull image [NodeConformance]', async (c, t) => {
  const missing = L.testapp.replace(':1.0', ':not-here');
  await c.apply(
    [
      pod('pull-always', [{ imagePullPolicy: 'Always' }]),
      pod('pull-ifnotpresent', [{ imagePullPolicy: 'IfNotPresent' }]),
      pod('pull-never', [{ image: missing, imagePullPolicy: 'Never' }]),
    ].join('\n'),
  );
  await c.waitRunning('pull-always');
  await c.waitRunning('pull-ifnotpresent');
  const ev = await c.events('pull-always');
  t.true(ev.some((e) => e.reason === 'Pulling' && e.message === `Pulling image "${L.testapp}"`));
  t.true(
    ev.some(
      (e) =>
        e.reason === 'Pulled' &&
        new RegExp(`^Successfully pulled image "${L.testapp}" in \\S+ \\(\\S+ including waiting\\)\\. Image size: \\d+ bytes\\.$`).test(e.message),
    ),
    JSON.stringify(ev),
  );
  const ev2 = await c.events('pull-ifnotpresent');
  t.true(
    ev2.some((e) => e.reason === 'Pulled' && e.message === `Container image "${L.testapp}" already present on machine`),
    JSON.stringify(ev2),
  );
  t.false(ev2.some((e) => e.reason === 'Pulling'));
  const never = await c.waitPod('pull-never', 'ErrImageNeverPull', (x) => cstatus(x, 'c')?.state?.waiting?.reason === 'ErrImageNeverPull');
  t.is(cstatus(never, 'c').state.waiting.message, `Container image "${missing}" is not present with pull policy of Never`);
});

it('[sig-node] Pods should support remote command execution over websockets [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('exec', [{}]));
  await c.waitRunning('exec');
  t.is((await c.exec('exec', ['sh', '-c', 'echo remote execution test'])).stdout, 'remote execution test\n');
  const failed = await c.exec('exec', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.is(failed.code, 3, "kubectl exec returns the command's exit code");
  t.is(failed.stdout, 'out\n');
  t.regex(failed.stderr, /err\n[\s\S]*command terminated with exit code 3/);
  t.is((await c.run(['exec', '-i', 'exec', '--', 'cat'], 'from stdin\n')).stdout, 'from stdin\n');
  // upstream's own check: a WebSocket with channel.k8s.io; stdout on channel 1, other channels only empty frames
  const q = 'stderr=1&stdout=1&container=c&command=echo&command=remote+execution+test';
  const ws = await wsMessages(c.kc, `/api/v1/namespaces/${c.ns}/pods/exec/exec?${q}`, ['channel.k8s.io']);
  t.is(ws.protocol, 'channel.k8s.io');
  t.true(
    ws.messages.every((m) => m.length <= 1 || m[0] === 1),
    JSON.stringify(ws.messages.map((m) => [...m])),
  );
  t.is(Buffer.concat(ws.messages.filter((m) => m[0] === 1).map((m) => m.subarray(1))).toString(), 'remote execution test\n');
});

it('[sig-node] Pods should support retrieving logs from the container over websockets [NodeConformance] [Conformance]', async (c, t) => {
  await c.apply(pod('logs', [sh('echo container is alive; for i in 1 2 3; do echo tick $i; sleep 0.5; done; sleep 600')]));
  await c.waitRunning('logs');
  const out = await eventually(
    'three ticks',
    async () => {
      const l = await c.ok(['logs', 'logs']);
      return /tick 3/.test(l) && l;
    },
    20_000,
  );
  t.is(out, 'container is alive\ntick 1\ntick 2\ntick 3\n');
  t.is(await c.ok(['logs', 'logs', '--tail=1']), 'tick 3\n');
  const follow = await c.run(['logs', '-f', 'logs', '--request-timeout=2s']);
  t.regex(follow.stdout, /^container is alive\ntick 1\n/);
  // upstream's own check: the log over a WebSocket with binary.k8s.io, the messages' bytes in order
  const ws = await wsMessages(c.kc, `/api/v1/namespaces/${c.ns}/pods/logs/log?container=c`, ['binary.k8s.io']);
  t.is(ws.protocol, 'binary.k8s.io');
  t.is(Buffer.concat(ws.messages).toString(), out);
  const b64 = await wsMessages(c.kc, `/api/v1/namespaces/${c.ns}/pods/logs/log?container=c&tailLines=1`, ['base64.binary.k8s.io']);
  t.is(Buffer.from(b64.messages.map(String).join(''), 'base64').toString(), 'tick 3\n');
});
