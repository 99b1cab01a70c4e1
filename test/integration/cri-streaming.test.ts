// CRI streaming: Exec and PortForward return URLs on containerd's streaming server, and the Node
// client (WebSocket, v4.channel.k8s.io) runs the command / reaches the pod's port through them.
// The streaming server listens on 127.0.0.1 inside the node's netns, so the client runs there too,
// as the kubelet does: a child node process entered into the netns with nsenter.
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitCodeOf } from '../../agents/kubelet/cri/stream-client.ts';
import { startThrowawayNode } from '../support/throwaway-node.ts';
import type { PodSandboxConfig } from '../../agents/kubelet/cri/api-types.ts';

const run = promisify(execFile);
const clientModule = fileURLToPath(new URL('../../agents/kubelet/cri/stream-client.ts', import.meta.url));

/** Evaluates `body` (ES module code with `m` = stream-client.ts) in a node process inside netnsPath; returns its JSON output. */
async function inNetns<T>(netnsPath: string, body: string): Promise<T> {
  const code = `const m = await import(${JSON.stringify(clientModule)});\n${body}`;
  const { stdout } = await run('nsenter', [`--net=${netnsPath}`, '--', process.execPath, '--import=tsx', '--input-type=module', '-e', code], {
    timeout: 30_000,
  });
  return JSON.parse(stdout) as T;
}

test('exit codes come from the v4 status frame', (t) => {
  t.is(exitCodeOf({ status: 'Success' }), 0);
  t.is(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } }), 42);
  t.throws(() => exitCodeOf({ status: 'Failure', reason: 'InternalError', message: 'no such container' }), { message: /no such container/ });
});

test('exec and port-forward through containerd streaming URLs', async (t) => {
  const node = await startThrowawayNode();
  t.teardown(async () => {
    const problems = await node.teardown();
    if (problems.length) console.error('teardown problems:', problems);
  });
  const { env, work } = node;
  const cri = env.client;
  const cfg: PodSandboxConfig = {
    metadata: { name: 'stream', uid: `uid-${Date.now()}`, namespace: 'default' },
    logDirectory: join(work, 'logs'),
    linux: { cgroupParent: env.cgroupParent, securityContext: { namespaceOptions: { network: 'NODE' } } },
  };
  const sandboxId = await cri.runPodSandbox(cfg);
  await cri.pullImage(node.image('testapp'));
  const id = await cri.createContainer(sandboxId, { metadata: { name: 'app' }, image: { image: node.image('testapp') }, logPath: 'app.log' }, cfg);
  await cri.startContainer(id);

  const url = await cri.exec({ containerId: id, cmd: ['sh', '-c', 'read x; echo "got $x"; echo err >&2; exit 7'], stdin: true, stdout: true, stderr: true });
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/\S+$/);
  const r = await inNetns<{ stdout: string; stderr: string; exitCode: number }>(
    env.netns!.path,
    `const r = await m.execStream(${JSON.stringify(url)}, { stdin: 'hello\\n', timeoutMs: 10000 });
     console.log(JSON.stringify({ stdout: r.stdout.toString(), stderr: r.stderr.toString(), exitCode: r.exitCode }));`,
  );
  t.deepEqual(r, { stdout: 'got hello\n', stderr: 'err\n', exitCode: 7 });

  const ok = await cri.exec({ containerId: id, cmd: ['cat', '/www/healthz'], stdout: true, stderr: true });
  const r2 = await inNetns<{ stdout: string; exitCode: number }>(
    env.netns!.path,
    `const r = await m.execStream(${JSON.stringify(ok)});
     console.log(JSON.stringify({ stdout: r.stdout.toString(), exitCode: r.exitCode }));`,
  );
  t.deepEqual(r2, { stdout: 'ok\n', exitCode: 0 });

  // an exec URL is single-use: the streaming server forgets the token once it was served
  const again = await t.throwsAsync(inNetns(env.netns!.path, `await m.execStream(${JSON.stringify(ok)}, { timeoutMs: 5000 });`));
  t.regex(String(again?.message), /HTTP 404|Command failed/);

  const hostname = (await cri.execSync(id, ['hostname'], 5)).stdout.toString().trim();
  const pf = await cri.portForward(sandboxId, [8080]);
  const reply = await inNetns<{ text: string }>(
    env.netns!.path,
    // httpd is up: the execs above ran after it started. Port-forward URLs are single-use too.
    `const s = await m.portForwardStream(${JSON.stringify(pf)}, 8080);
     s.write('GET / HTTP/1.0\\r\\n\\r\\n');
     const text = await new Promise((res, rej) => { let b = ''; s.on('data', (d) => { b += d; }); s.on('end', () => res(b)); s.on('error', rej); });
     console.log(JSON.stringify({ text }));`,
  );
  t.regex(reply.text, /^HTTP\/1\.[01] 200 OK\r\n/);
  t.is(reply.text.split('\r\n\r\n')[1]?.trim(), hostname);
});
