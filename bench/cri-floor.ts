// The floor for bench/pods.ts: the same pods started with nothing of hawser's but its CRI client
// (agents/kubelet/cri): RunPodSandbox, CreateContainer, StartContainer on one throwaway containerd in
// its own network namespace, whose CNI plugins are the reference ones from /usr/lib/cni (bridge,
// host-local, portmap, loopback) on the conflist podnet writes. No kubelet, no API server, no CNI
// daemon. Its times and CPU, measured in the same run as hawser's, are what hawser is divided by.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cniConflist } from '../agents/podnet/plan.ts';
import type { CriClient } from '../agents/kubelet/cri/client.ts';
import { startThrowawayNode, type ThrowawayNode } from '../test/support/throwaway-node.ts';
import type { ContainerConfig, PodSandboxConfig } from '../agents/kubelet/cri/api-types.ts';
import { budgetTable, cgroupCpu, clientCpu, containerdRows, containerdSample, CpuGroups, delta, type BudgetRow, type Sample } from './cpu-budget.ts';
import { CNI_PLUGINS } from '../cni-plugins/names.ts';

export const REFERENCE_CNI_DIR = '/usr/lib/cni';

export function missingReferencePlugins(): string[] {
  return CNI_PLUGINS.filter((p) => !existsSync(join(REFERENCE_CNI_DIR, p)));
}

export interface FloorRun {
  lat: number[];
  allMs: number;
  rows: BudgetRow[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epoch = () => performance.timeOrigin + performance.now();

export class CriFloor {
  private readonly groups = new CpuGroups(`floor-${process.pid}`);
  private seq = 0;

  private constructor(
    private readonly node: ThrowawayNode,
    private readonly confDir: string,
  ) {}

  /** A containerd + registry in a fresh netns, reference CNI plugins on a pod subnet of the bench's own network. */
  static async start(o: { imagesDir: string; podCIDR: string }): Promise<CriFloor> {
    const conf = mkdtempSync(join(tmpdir(), 'hawser-bench-floor-cni-'));
    mkdirSync(join(conf, 'ipam'), { recursive: true });
    writeFileSync(
      join(conf, '10-hawser.conflist'),
      JSON.stringify(cniConflist({ podCIDR: o.podCIDR, bridge: 'cni0', ipamDataDir: join(conf, 'ipam'), portmap: true })),
    );
    const node = await startThrowawayNode({ imagesDir: o.imagesDir, cniBinDir: REFERENCE_CNI_DIR, cniConfDir: conf }).catch((e: Error) => {
      rmSync(conf, { recursive: true, force: true });
      throw e;
    });
    const f = new CriFloor(node, conf);
    f.groups.enroll('containerd', node.env.pid);
    return f;
  }

  private get cri(): CriClient {
    return this.node.env.client;
  }

  private sandbox(name: string): PodSandboxConfig {
    const uid = `floor-${process.pid}-${name}`;
    return {
      metadata: { name, uid, namespace: 'floor', attempt: 0 },
      hostname: name,
      logDirectory: join(this.node.work, 'pods', uid),
      labels: { app: 'bench' },
      linux: { cgroupParent: this.node.env.cgroupParent },
    };
  }

  private container(): ContainerConfig {
    return { metadata: { name: 'c', attempt: 0 }, image: { image: this.node.image('testapp') }, logPath: 'c/0.log' };
  }

  /** One pod from nothing to its container started; returns the milliseconds it took. */
  private async startPod(name: string): Promise<number> {
    const t0 = epoch();
    const sb = this.sandbox(name);
    const id = await this.cri.runPodSandbox(sb);
    const cid = await this.cri.createContainer(id, this.container(), sb);
    await this.cri.startContainer(cid);
    return epoch() - t0;
  }

  /** The images in containerd's store, and one pod through the whole path, removed again. */
  async warm(): Promise<void> {
    await this.cri.pullImage(this.node.image('testapp'));
    await this.startPod(`warm-${this.seq++}`);
    await this.removeAll();
  }

  private sample(): Sample {
    return {
      ...containerdSample('floor', `hawser-bench/floor-${process.pid}/containerd`, this.node.env.pid),
      pods: cgroupCpu(this.node.env.cgroupParent),
      client: clientCpu(),
    };
  }

  /** `pods` pods, one every intervalMs (0: all asked for at once, `concurrency` in flight, each timed from then), timed like the API runs. */
  async run(pods: number, intervalMs: number, concurrency: number): Promise<FloorRun> {
    const before = this.sample();
    const names = Array.from({ length: pods }, () => `p${String(this.seq++).padStart(3, '0')}`);
    const lat: number[] = [];
    const t0 = epoch();
    if (intervalMs > 0) {
      await Promise.all(
        names.map(async (n, i) => {
          await sleep(t0 + i * intervalMs - epoch());
          lat.push(await this.startPod(n));
        }),
      );
    } else {
      // a burst asks for every pod at t0, as hawser's burst does (its creates all return within a
      // few hundred ms, and the kubelets' own queueing counts in its figure): so a pod's latency
      // runs from t0, its wait for one of the client's `concurrency` slots included, not from
      // its own first call (which left 20 of 30 pods' queueing out of the floor's p99)
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < names.length) {
            await this.startPod(names[next++]);
            lat.push(epoch() - t0);
          }
        }),
      );
    }
    const allMs = epoch() - t0;
    const after = this.sample();
    return { lat, allMs, rows: floorRows(before, after) };
  }

  /** Stop and remove every sandbox (CNI DEL through the reference plugins). */
  async removeAll(): Promise<void> {
    const ids = (await this.cri.listPodSandbox()).map((s) => s.id);
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          await this.cri.stopPodSandbox(id);
          await this.cri.removePodSandbox(id);
        }
      }),
    );
  }

  async stop(): Promise<void> {
    this.groups.release();
    const problems = await this.node.teardown();
    rmSync(this.confDir, { recursive: true, force: true });
    if (problems.length) console.error('floor teardown problems:', problems);
  }
}

function floorRows(before: Sample, after: Sample): BudgetRow[] {
  const d = delta(before, after);
  return [
    ...containerdRows(d, after, ['floor'], 'containerd children (reference CNI plugins, shim start)'),
    { what: 'pods (runc init, pause, testapp)', cpu: d('pods') },
    { what: 'CRI client (this process)', cpu: d('client') },
  ];
}

export const floorTable = (title: string, r: FloorRun, pods: number) => budgetTable(title, r.rows, pods);
