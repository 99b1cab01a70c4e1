// The image manager against a real containerd (throwaway, in its own netns) and real registries:
// pull policies with their events, and imagePullSecrets passed to CRI PullImage as auth for a
// registry that demands basic auth (distribution with an htpasswd file), where pulls without the
// secret are refused. Then image GC removing what no container uses.
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { spawnDaemon, stopPid, waitReady } from '../../agents/kubelet/cri/daemon.ts';
import { startThrowawayNode, type ThrowawayNode } from '../support/throwaway-node.ts';
import { ImageGC } from '../../agents/kubelet/images/image-gc.ts';
import { ImageError, ImageManager } from '../../agents/kubelet/images/image-manager.ts';
import { logger } from '../../agents/api/log.ts';
import { criRuntime } from '../../agents/kubelet/pods/cri-runtime.ts';
import type { EventRecorder } from '../../agents/kubelet/pods/events.ts';

const run = promisify(execFile);
let node: ThrowawayNode;
let authPort: number;
let stopAuth: () => Promise<void>;

/** bcrypt, which distribution's htpasswd requires, from Python's crypt module (Debian's libxcrypt). */
const bcrypt = (pw: string) =>
  execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', pw], {
    encoding: 'utf8',
  }).trim();

test.before(async () => {
  node = await startThrowawayNode();
  // a second registry over the same storage (so it holds the same images) that wants a password
  authPort = 20000 + Math.floor(Math.random() * 20000);
  const dir = node.work;
  writeFileSync(join(dir, 'htpasswd'), `puller:${bcrypt('s3cret')}\n`);
  writeFileSync(
    join(dir, 'auth.yml'),
    [
      'version: 0.1',
      'storage:',
      `  filesystem: {rootdirectory: ${JSON.stringify(join(dir, 'registry', 'storage'))}}`,
      'http:',
      `  addr: 127.0.0.1:${authPort}`,
      '  secret: test-secret',
      'auth:',
      '  htpasswd:',
      '    realm: hawser-test',
      `    path: ${JSON.stringify(join(dir, 'htpasswd'))}`,
      '',
    ].join('\n'),
  );
  const d = spawnDaemon({ cmd: 'docker-registry', args: ['serve', join(dir, 'auth.yml')], logFile: join(dir, 'auth.log'), netnsPath: node.env.netns!.path });
  stopAuth = () => stopPid(d.pid, 5000);
  await waitReady(
    d,
    'registry with auth',
    join(dir, 'auth.log'),
    async () => {
      const r = await run('nsenter', [`--net=${node.env.netns!.path}`, '--', 'busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:${authPort}/v2/`], {
        timeout: 3000,
      }).catch((e) => e);
      return /401/.test(String(r.stderr ?? ''));
    },
    20_000,
  );
});

test.after.always(async () => {
  await stopAuth?.();
  const problems = await node?.teardown();
  if (problems?.length) console.error(problems);
});

function recorder() {
  const events: string[] = [];
  const ev = {
    pod: (_p: V1Pod, _c: unknown, _type: string, reason: string, message: string) => events.push(`${reason}: ${message}`),
  } as unknown as EventRecorder;
  return { events, ev };
}
const pod = (uid: string): V1Pod => ({ metadata: { name: 'p', namespace: 'ns', uid }, spec: { containers: [] } });
const ctr = (image: string, imagePullPolicy?: string): V1Container => ({ name: 'c', image, imagePullPolicy });
const sandbox = { metadata: { name: 'p', namespace: 'ns', uid: 'x', attempt: 0 } };

test.serial('imagePullSecrets: refused without the secret, pulled with it', async (t) => {
  const rt = criRuntime(node.env.socket);
  const { events, ev } = recorder();
  const im = new ImageManager(rt, ev);
  const image = `127.0.0.1:${authPort}/testapp:1.0`;
  const err = await t.throwsAsync(im.ensure(pod('u1'), ctr(image), sandbox, []), { instanceOf: ImageError });
  t.is(err!.reason, 'ErrImagePull');
  t.regex(err!.message, /^rpc error: code = \w+ desc = .*(401|[Uu]nauthorized)/);
  const secret: V1Secret = {
    metadata: { name: 'creds', namespace: 'ns' },
    type: 'kubernetes.io/dockerconfigjson',
    data: {
      '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [`127.0.0.1:${authPort}`]: { username: 'puller', password: 's3cret' } } })).toString('base64'),
    },
  };
  const info = await im.ensure(pod('u2'), ctr(image), sandbox, [secret]);
  t.regex(info.ref, /^sha256:[0-9a-f]{64}$/);
  t.true(
    events.some((e) => /^Pulled: Successfully pulled image "127\.0\.0\.1:\d+\/testapp:1\.0" in /.test(e)),
    events.join('\n'),
  );
  t.true((await rt.imageStatus(image)) !== undefined);
});

test.serial('pull policies: IfNotPresent uses what is there, Always pulls, Never refuses a missing image; back-off after a failure', async (t) => {
  const rt = criRuntime(node.env.socket);
  const { events, ev } = recorder();
  const im = new ImageManager(rt, ev);
  const image = node.image('testapp');
  await im.ensure(pod('u3'), ctr(image, 'Always'), sandbox, []);
  t.true(events.some((e) => e === `Pulling: Pulling image "${image}"`));
  events.length = 0;
  await im.ensure(pod('u3'), ctr(image, 'IfNotPresent'), sandbox, []);
  t.deepEqual(events, [`Pulled: Container image "${image}" already present on machine`]);
  const missing = image.replace(':1.0', ':absent');
  await t.throwsAsync(im.ensure(pod('u3'), ctr(missing, 'Never'), sandbox, []), {
    message: `Container image "${missing}" is not present with pull policy of Never`,
  });
  const first = await t.throwsAsync(im.ensure(pod('u4'), ctr(missing, 'IfNotPresent'), sandbox, []), { instanceOf: ImageError });
  t.is(first!.reason, 'ErrImagePull');
  const second = await t.throwsAsync(im.ensure(pod('u4'), ctr(missing, 'IfNotPresent'), sandbox, []), { instanceOf: ImageError });
  t.is(second!.reason, 'ImagePullBackOff');
  t.is(second!.message, `Back-off pulling image "${missing}"`);
  t.true(second!.retryMs! > 8000 && second!.retryMs! <= 10_000);
});

test.serial('image GC frees down to the low threshold, sparing images in use and the sandbox image', async (t) => {
  const rt = criRuntime(node.env.socket);
  // the sandbox image is present once a sandbox ran; pull it here for the check
  await rt.pullImage(node.image('pause'), undefined, sandbox);
  const shortfalls: number[] = [];
  const gc = new ImageGC(rt, { highPercent: 1, lowPercent: 0, minAgeMs: 0 }, logger('test', 'silent'), (want, found) => shortfalls.push(want - found));
  const tags = async () => (await rt.listImages()).flatMap((i) => i.tags);
  t.true((await tags()).includes(node.image('testapp')));
  const report = await gc.collect();
  t.true(report.removed.length >= 1);
  t.false((await tags()).includes(node.image('testapp')), 'unused: removed');
  t.true((await tags()).includes(node.image('pause')), 'the sandbox image is pinned');
  t.is(shortfalls.length, 1, 'a disk that stays above the low threshold is reported');
});
