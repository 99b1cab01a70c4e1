// A throwaway node with images: a disposable containerd in its own netns plus a registry inside
// that netns serving hawser's images under registry.hawser.local (through containerd's mirror, as
// in the lab). What kubelet and CRI integration tests start from.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishImages, type PublishedImage } from '../../images/publish.ts';
import { startRegistry, type RegistryHandle } from '../../images/registry.ts';
import { startThrowawayContainerd, type ThrowawayContainerd } from './throwaway-containerd.ts';

export const IMAGE_HOST = 'registry.hawser.local';

export interface ThrowawayNode {
  env: ThrowawayContainerd;
  /** scratch dir for the test (pod log dirs etc.), removed at teardown */
  work: string;
  /** e.g. registry.hawser.local/testapp:1.0 */
  image(name: 'pause' | 'testapp'): string;
  published: Record<string, PublishedImage>;
  teardown(): Promise<string[]>;
}

export async function startThrowawayNode(o: { imagesDir?: string; cniBinDir?: string; cniConfDir?: string } = {}): Promise<ThrowawayNode> {
  const port = 20000 + Math.floor(Math.random() * 20000); // a fresh netns: every port is free
  const work = mkdtempSync(join(tmpdir(), 'hawser-node-'));
  let env: ThrowawayContainerd | undefined;
  let registry: RegistryHandle | undefined;
  const teardown = async () => {
    await registry?.stop().catch(() => undefined);
    const problems = (await env?.teardown()) ?? [];
    rmSync(work, { recursive: true, force: true });
    return problems;
  };
  try {
    env = await startThrowawayContainerd({
      sandboxImage: `${IMAGE_HOST}/pause:3.10`,
      registryMirrors: { [IMAGE_HOST]: `http://127.0.0.1:${port}` },
      netns: true,
      cniBinDir: o.cniBinDir,
      cniConfDir: o.cniConfDir,
    });
    const netnsPath = env.netns!.path;
    registry = await startRegistry({ listen: `127.0.0.1:${port}`, dataDir: join(work, 'registry'), logFile: join(work, 'registry.log'), netnsPath });
    const published = await publishImages({ outDir: o.imagesDir ?? join(work, 'images'), registry: `127.0.0.1:${port}`, netnsPath });
    return { env, work, published, image: (name) => `${IMAGE_HOST}/${name}:${name === 'pause' ? '3.10' : '1.0'}`, teardown };
  } catch (e) {
    await teardown();
    throw e;
  }
}
