// The CRI client against a real containerd (throwaway root, state, socket and netns): a host-network
// sandbox from the locally built pause image (pulled through the mirror by RunPodSandbox itself), a
// testapp container, ExecSync, a containerd restart that the containers survive, and a full cleanup.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isNotFound } from '../../agents/kubelet/cri/client.ts';
import { alive } from '../../agents/kubelet/cri/daemon.ts';
import { descendants, mountsUnder, shimPids } from '../../agents/kubelet/cri/teardown.ts';
import type { ThrowawayContainerd } from '../support/throwaway-containerd.ts';
import { IMAGE_HOST as HOST, startThrowawayNode } from '../support/throwaway-node.ts';
import type { PodSandboxConfig } from '../../agents/kubelet/cri/api-types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A throwaway node (containerd + registry in a netns); torn down even when the test fails. */
async function nodeWithImages(t: import('ava').ExecutionContext) {
  const node = await startThrowawayNode();
  t.teardown(async () => {
    const problems = await node.teardown();
    if (problems.length) console.error('teardown problems:', problems);
  });
  return { env: node.env, work: node.work };
}

const podConfig = (env: ThrowawayContainerd, work: string, uid: string): PodSandboxConfig => ({
  metadata: { name: 'cri-it', uid, namespace: 'default', attempt: 0 },
  logDirectory: join(work, 'pods', uid),
  labels: { 'hawser.io/test': 'cri-it' },
  annotations: { note: 'kept verbatim' },
  linux: {
    cgroupParent: env.cgroupParent,
    securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
  },
});

test('sandbox and container lifecycle through CRI on a real containerd', async (t) => {
  const { env, work } = await nodeWithImages(t);
  const cri = () => env.client;

  const v = await cri().version();
  t.is(v.runtimeName, 'containerd');
  t.is(v.runtimeApiVersion, 'v1');
  const st = await cri().status();
  t.true(
    st.status!.conditions.some((c) => c.type === 'RuntimeReady' && c.status),
    JSON.stringify(st.status),
  );

  const uid = `uid-${Date.now()}`;
  const sandboxConfig = podConfig(env, work, uid);
  let mark = Date.now();
  const sandboxId = await cri().runPodSandbox(sandboxConfig);
  t.log(`RunPodSandbox (incl. pause pull via mirror): ${Date.now() - mark} ms`);

  const sb = await cri().podSandboxStatus(sandboxId, true);
  t.is(sb.status!.state, 'SANDBOX_READY');
  t.deepEqual(sb.status!.annotations, { note: 'kept verbatim' });
  t.is(sb.status!.labels['hawser.io/test'], 'cri-it');
  t.is(sb.status!.linux!.namespaces!.options!.network, 'NODE');
  t.truthy(sb.info.info, 'verbose sandbox status carries info');
  // cgroupfs driver: the sandbox's cgroup sits under the parent we gave
  t.true(existsSync(`/sys/fs/cgroup/memory${env.cgroupParent}/${sandboxId}`), 'sandbox cgroup under cgroup_parent');

  mark = Date.now();
  await cri().pullImage(`${HOST}/testapp:1.0`);
  const containerId = await cri().createContainer(
    sandboxId,
    {
      metadata: { name: 'app', attempt: 0 },
      image: { image: `${HOST}/testapp:1.0` },
      envs: [{ key: 'GREETING', value: 'hello from env' }],
      logPath: 'app/0.log',
      labels: { 'io.kubernetes.container.name': 'app' },
    },
    sandboxConfig,
  );
  await cri().startContainer(containerId);
  t.log(`pull + create + start container: ${Date.now() - mark} ms`);

  const cs = await cri().containerStatus(containerId);
  t.is(cs.status!.state, 'CONTAINER_RUNNING');
  t.is(cs.status!.image!.image, `${HOST}/testapp:1.0`);
  t.true(cs.status!.startedAt > 0);
  t.is(cs.status!.logPath, join(work, 'pods', uid, 'app/0.log'));

  const listed = await cri().listContainers({ podSandboxId: sandboxId });
  t.deepEqual(
    listed.map((c) => c.id),
    [containerId],
  );
  t.is((await cri().listContainers({ state: { state: 'CONTAINER_EXITED' } })).length, 0);

  const ex = await cri().execSync(containerId, ['sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 3'], 5);
  t.is(ex.stdout.toString(), 'hello from env\n');
  t.is(ex.stderr.toString(), 'oops\n');
  t.is(ex.exitCode, 3);

  // testapp answers GET / with its hostname (host network: the node's hostname)
  const hostname = (await cri().execSync(containerId, ['hostname'], 5)).stdout.toString().trim();
  let body = '';
  for (let i = 0; i < 50 && !body; i++) {
    const r = await cri().execSync(containerId, ['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/'], 5);
    if (r.exitCode === 0) body = r.stdout.toString();
    else await sleep(100);
  }
  t.is(body.trim(), hostname);

  // containerd stops, the container keeps running under its shim, a new containerd finds it again
  const shimsBefore = shimPids(env.socket);
  t.true(shimsBefore.length >= 1, 'shims found');
  const oldPid = env.pid;
  await env.stop();
  t.false(alive(oldPid));
  t.true(shimsBefore.every(alive), 'shims survive a containerd stop');
  mark = Date.now();
  await env.start();
  t.log(`containerd restart to CRI ready: ${Date.now() - mark} ms`);
  t.is((await cri().containerStatus(containerId)).status!.state, 'CONTAINER_RUNNING');
  t.is((await cri().execSync(containerId, ['cat', '/www/healthz'], 5)).stdout.toString(), 'ok\n');

  mark = Date.now();
  await cri().stopContainer(containerId, 2);
  t.log(`StopContainer (httpd exits on SIGTERM): ${Date.now() - mark} ms`);
  const stopped = await cri().containerStatus(containerId);
  t.is(stopped.status!.state, 'CONTAINER_EXITED');
  t.true(stopped.status!.finishedAt >= stopped.status!.startedAt);
  await cri().stopContainer(containerId, 2); // idempotent

  const log = readFileSync(join(work, 'pods', uid, 'app/0.log'), 'utf8');
  t.regex(log, /^\S+ (stdout|stderr) [FP] /m, 'CRI log format');

  await cri().removeContainer(containerId);
  const gone = await t.throwsAsync(cri().containerStatus(containerId));
  t.true(isNotFound(gone), String(gone));
  await cri().stopPodSandbox(sandboxId);
  t.is((await cri().podSandboxStatus(sandboxId)).status!.state, 'SANDBOX_NOTREADY');
  await cri().removePodSandbox(sandboxId);
  await cri().removePodSandbox(sandboxId); // idempotent
  t.deepEqual(await cri().listPodSandbox(), []);
  t.deepEqual(await cri().listContainers(), []);
  // the shims exit with their sandboxes
  for (let i = 0; i < 50 && shimPids(env.socket).length; i++) await sleep(100);
  t.deepEqual(shimPids(env.socket), []);
});

test('teardown leaves nothing behind when containerd died with pods running', async (t) => {
  const { env, work } = await nodeWithImages(t);
  const cfg = podConfig(env, work, `uid-${Date.now()}`);
  const sandboxId = await env.client.runPodSandbox(cfg);
  const image = { image: `${HOST}/testapp:1.0` };
  await env.client.pullImage(image.image);
  const id = await env.client.createContainer(sandboxId, { metadata: { name: 'app' }, image, logPath: 'app.log' }, cfg);
  await env.client.startContainer(id);
  const victims = descendants(shimPids(env.socket));
  t.true(victims.length >= 2, 'pause and app run under shims');
  const overlayRoot = join(env.root, 'io.containerd.snapshotter.v1.overlayfs');
  t.true(mountsUnder([env.root, env.state]).length >= 2, 'rootfs mounts exist');

  process.kill(env.pid, 'SIGKILL'); // a wedged or crashed runtime: no CRI for the cleanup
  const problems = await env.teardown();
  t.deepEqual(problems, []);
  t.false(victims.some(alive), 'containers killed');
  t.deepEqual(shimPids(env.socket), []);
  t.deepEqual(mountsUnder([env.root, env.state]), []);
  t.false(existsSync(overlayRoot));
  t.false(existsSync(env.dir));
  t.false(existsSync(`/sys/fs/cgroup/memory${env.cgroupParent}`), 'cgroup parent removed');
  t.false(existsSync(env.netns!.path), 'netns removed');
});
