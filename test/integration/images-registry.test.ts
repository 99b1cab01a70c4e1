// The locally built images through the real pull path: build (reproducibly), serve them from
// Debian's docker-registry, push with skopeo, and let a throwaway containerd pull them through CRI
// PullImage via a mirror for a registry host name that does not resolve (registry.hawser.local),
// as the lab does. Everything runs inside a network namespace this test creates.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImages } from '../../images/build.ts';
import { publishImages } from '../../images/publish.ts';
import { startRegistry, type RegistryHandle } from '../../images/registry.ts';
import { isNotFound, CriError } from '../../agents/kubelet/cri/client.ts';
import { startThrowawayContainerd, type ThrowawayContainerd } from '../support/throwaway-containerd.ts';

const MIRRORED_HOST = 'registry.hawser.local';

const configDigest = (layoutDir: string): string => {
  const blob = (d: string) => JSON.parse(readFileSync(join(layoutDir, 'blobs/sha256', d.slice(7)), 'utf8'));
  const index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8'));
  return blob(index.manifests[0].digest).config.digest;
};

test('images build reproducibly and skip work when current', async (t) => {
  const a = mkdtempSync(join(tmpdir(), 'hawser-img-a-'));
  const b = mkdtempSync(join(tmpdir(), 'hawser-img-b-'));
  t.teardown(() => [a, b].forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = await buildImages(a);
  const second = await buildImages(b);
  const again = await buildImages(a);
  for (const name of ['pause', 'testapp']) {
    t.true(first[name]!.built);
    t.is(first[name]!.manifestDigest, second[name]!.manifestDigest, `${name} digest differs between builds`);
    t.false(again[name]!.built, `${name} was rebuilt although current`);
    t.is(again[name]!.manifestDigest, first[name]!.manifestDigest);
  }
  const index = JSON.parse(readFileSync(join(a, 'pause/index.json'), 'utf8'));
  t.is(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '3.10');
});

test('containerd pulls the images through CRI from the local registry via a mirror', async (t) => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const work = mkdtempSync(join(tmpdir(), 'hawser-img-reg-'));
  let env: ThrowawayContainerd | undefined;
  let registry: RegistryHandle | undefined;
  t.teardown(async () => {
    await registry?.stop();
    const problems = (await env?.teardown()) ?? [];
    rmSync(work, { recursive: true, force: true });
    if (problems.length) console.error('teardown problems:', problems);
  });

  const t0 = Date.now();
  env = await startThrowawayContainerd({
    sandboxImage: `${MIRRORED_HOST}/pause:3.10`,
    registryMirrors: { [MIRRORED_HOST]: `http://127.0.0.1:${port}` },
    netns: true,
  });
  const netnsPath = env.netns!.path;
  t.log(`containerd up: ${Date.now() - t0} ms`);
  registry = await startRegistry({ listen: `127.0.0.1:${port}`, dataDir: join(work, 'registry'), logFile: join(work, 'registry.log'), netnsPath });
  t.log(`registry up: ${Date.now() - t0} ms`);
  const published = await publishImages({ outDir: join(work, 'images'), registry: `127.0.0.1:${port}`, netnsPath });
  t.log(`published: ${Date.now() - t0} ms`);
  t.is(published.testapp!.ref, `127.0.0.1:${port}/testapp:1.0`);

  const cri = env.client;
  const ref = `${MIRRORED_HOST}/testapp:1.0`;
  t.is((await cri.imageStatus(ref)).image, null, 'image present before the pull');

  const started = Date.now();
  const imageRef = await cri.pullImage(ref);
  t.log(`PullImage ${ref}: ${Date.now() - started} ms`);
  const wantId = configDigest(published.testapp!.layoutDir);
  t.is(imageRef, wantId);

  const status = await cri.imageStatus(ref);
  t.truthy(status.image);
  t.is(status.image!.id, wantId);
  t.deepEqual(status.image!.repoTags, [ref]);
  t.deepEqual(status.image!.repoDigests, [`${MIRRORED_HOST}/testapp@${published.testapp!.manifestDigest}`]);
  t.true(status.image!.size > 500_000, `size ${status.image!.size}`);

  // also reachable by digest, and listed
  t.is((await cri.imageStatus(`${MIRRORED_HOST}/testapp@${published.testapp!.manifestDigest}`)).image?.id, wantId);
  t.true((await cri.listImages()).some((i) => i.id === wantId));

  // an image the registry does not have fails the pull with the runtime's error
  let mark = Date.now();
  const missing = await t.throwsAsync(cri.pullImage(`${MIRRORED_HOST}/nope:0`), { instanceOf: CriError });
  t.regex(missing!.message, /not found|failed to resolve/i);
  t.log(`failed pull: ${Date.now() - mark} ms`);
  mark = Date.now();

  await cri.removeImage(ref);
  t.is((await cri.imageStatus(ref)).image, null);
  // removing twice is not an error (CRI: idempotent)
  await cri.removeImage(ref).catch((e) => t.false(isNotFound(e), String(e)));

  t.log(`remove: ${Date.now() - mark} ms`);
  const fs = await cri.imageFsInfo();
  t.true(fs.imageFilesystems.length > 0);
  t.true(fs.imageFilesystems[0]!.fsId!.mountpoint.startsWith(env.root));
});
