// The cluster under test: one given by a kubeconfig, or the runner's own netns lab ("conf" on
// 10.80.0.0/24, apart from the other labs' subnets) brought up for the run and removed after it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { labUp } from '../../agents/cli/lab/up.ts';
import { labDown } from '../../agents/cli/lab/down.ts';
import { KUBECTL } from '../helpers/kubectl.ts';

export const LAB = { name: 'conf', subnet: '10.80.0.0/24', workers: 2, stateRoot: '/var/lib/hawser-lab' };

export interface Cluster {
  kubeconfig: string;
  /** the lab's state directory (CRI sockets), for tests that look under the API */
  labDir?: string;
  description: string;
  teardown: () => Promise<void>;
}

export async function provideCluster(o: { kubeconfig?: string; keepLab: boolean; log: (s: string) => void }): Promise<Cluster> {
  if (o.kubeconfig) {
    if (!existsSync(o.kubeconfig)) throw new Error(`kubeconfig ${o.kubeconfig} does not exist`);
    return { kubeconfig: resolve(o.kubeconfig), description: `the cluster of ${o.kubeconfig}`, teardown: async () => undefined };
  }
  if (process.getuid?.() !== 0) throw new Error('bringing up the conformance lab needs root (sudo), or pass --kubeconfig FILE for an existing cluster');
  const bin = resolve('dist/hawser.cjs');
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`make build\` (or \`make deps\`) first`);
  o.log(`bringing up netns lab "${LAB.name}" on ${LAB.subnet} (${LAB.workers} workers)`);
  const t0 = Date.now();
  await labDown({ ...LAB }); // leftovers of an interrupted run
  let lab: Awaited<ReturnType<typeof labUp>>;
  try {
    lab = await labUp({ ...LAB, bin, repo: resolve('.'), demo: false, quiet: true });
  } catch (e) {
    const logs = `${LAB.stateRoot}/${LAB.name}/logs`;
    const why = `the lab did not come up: ${(e as Error).message} (component logs: ${logs})`;
    if (!o.keepLab) await labDown({ ...LAB }).catch(() => undefined);
    throw new Error(o.keepLab ? why : `${why}; lab removed, use --keep-lab to keep it for a look`);
  }
  o.log(`lab up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return {
    kubeconfig: lab.adminKubeconfig,
    labDir: lab.dir,
    description: `netns lab \`${LAB.name}\` (${LAB.workers} workers)`,
    teardown: async () => {
      if (o.keepLab) {
        o.log(`lab left running: KUBECONFIG=${lab.adminKubeconfig}; remove it with \`node dist/hawser.cjs lab down --name ${LAB.name}\``);
        return;
      }
      await labDown({ ...LAB });
      o.log('lab removed');
    },
  };
}

/** gitVersions of kubectl and the server, and the node count, for the report's header. */
export function clusterFacts(kubeconfig: string): { kubectl: string; server: string; nodes: number } {
  const run = (args: string[]) => execFileSync(KUBECTL, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 30_000 });
  let kubectl = '?',
    server = '?',
    nodes = 0;
  try {
    const v = JSON.parse(run(['version', '-o', 'json']));
    kubectl = v.clientVersion?.gitVersion ?? '?';
    server = v.serverVersion?.gitVersion ?? '?';
  } catch {
    /* reported as "?" */
  }
  try {
    nodes = (JSON.parse(run(['get', 'nodes', '-o', 'json'])).items as unknown[]).length;
  } catch {
    /* 0 */
  }
  return { kubectl, server, nodes };
}

export function commitOf(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}
