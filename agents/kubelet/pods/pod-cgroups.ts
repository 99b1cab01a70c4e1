// Pod-level cgroups under --cgroup-root, in the QoS layout (<root>/pod<uid> for Guaranteed,
// <root>/burstable/pod<uid>, <root>/besteffort/pod<uid>), limited to the pod's summed requests and
// limits before its containers start, so that a pod as a whole cannot exceed what it declared.
// cgroupfs driver: the kubelet makes the directories (v1 hierarchies cpu, memory, pids, or the
// unified v2 tree). systemd driver: the slices are transient units systemd creates (cgroup-plan.ts
// names them), then the same files are written, as runc's systemd driver does.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { ExecError, runOk } from '../../api/exec.ts';
import type { Logger } from '../../api/log.ts';
import {
  cgroupPath,
  podComponents,
  podComponentsAnyQos,
  podMemoryRequest,
  podV2Files,
  qosComponents,
  sharesToWeight,
  sliceName,
  sliceProperties,
  setSliceArgs,
  startSliceArgs,
  stopSliceArgs,
  subtreeControlPlan,
  type CgroupDriver,
  type CgroupOptions,
} from './cgroup-plan.ts';
import { parseFlatKeyed } from './cgroup-stats.ts';
import { MIN_SHARES, podCgroupConfig, type PodCgroupConfig } from './qos.ts';

const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

/** The v1 files to write and their values for a pod cgroup config. Pure. */
type ControllerFile = { controller: string; file: string; value: string };

export function v1Files(cfg: PodCgroupConfig): ControllerFile[] {
  return [
    { controller: 'cpu', file: 'cpu.shares', value: String(cfg.cpuShares) },
    ...(cfg.cpuQuota ? [{ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(cfg.cpuPeriod ?? 100000) }] : []),
    { controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(cfg.cpuQuota ?? -1) },
    { controller: 'memory', file: 'memory.limit_in_bytes', value: String(cfg.memoryLimitInBytes ?? -1) },
  ];
}

/** Runs busctl for the systemd driver (a seam for tests). */
export type Busctl = (args: string[]) => Promise<unknown>;
const busctl: Busctl = (args) => runOk('busctl', args, { timeoutMs: 15_000 });

export interface PodCgroupsOptions extends CgroupOptions {
  cgroupRoot: string;
  driver: CgroupDriver;
}

export class PodCgroups {
  private readonly v2: boolean;

  constructor(
    private o: PodCgroupsOptions,
    private log: Logger,
    private fsRoot = '/sys/fs/cgroup',
    private bus: Busctl = busctl,
  ) {
    this.v2 = existsSync(join(fsRoot, 'cgroup.controllers'));
  }

  private dirs(path: string): { controller: string; dir: string }[] {
    if (this.v2) return [{ controller: '', dir: join(this.fsRoot, path) }];
    return V1_CONTROLLERS.filter((c) => existsSync(join(this.fsRoot, c))).map((c) => ({ controller: c, dir: join(this.fsRoot, c, path) }));
  }

  /** The systemd driver's slice: created, or its limits updated when it exists (a kubelet restart). */
  private async slice(name: string[], cfg?: PodCgroupConfig, memoryRequest = 0): Promise<void> {
    const unit = sliceName(name);
    const props = sliceProperties(name, cfg, this.o, memoryRequest);
    try {
      await this.bus(startSliceArgs(unit, props));
      return;
    } catch (err) {
      const said = String(err instanceof ExecError ? err.stderr : err);
      // systemd 252 (bookworm) says "Unit X was already loaded or has a fragment file."; others "already exists"
      if (!/already exists|already loaded|File exists/i.test(said)) {
        this.log.warn({ unit, err: said }, 'systemd did not create a pod slice');
        return;
      }
    }
    try {
      await this.bus(
        setSliceArgs(
          unit,
          props.filter(([p]) => !['Description', 'Wants', 'DefaultDependencies'].includes(p)),
        ),
      );
    } catch (err) {
      this.log.debug({ unit, err: String(err) }, 'could not update a pod slice');
    }
  }

  private files(cfg: PodCgroupConfig, memoryRequest: number): ControllerFile[] {
    return this.v2 ? podV2Files(cfg, this.o, memoryRequest).map((f) => ({ controller: '', ...f })) : v1Files(cfg);
  }

  private async write(name: string[], files: ControllerFile[], cfg?: PodCgroupConfig, memoryRequest = 0): Promise<void> {
    if (this.o.driver === 'systemd') await this.slice(name, cfg, memoryRequest);
    const path = cgroupPath(name, this.o.driver);
    if (this.v2) {
      // controllers must be enabled on every ancestor for the pod's cgroup to get them
      for (const s of subtreeControlPlan(path, this.read('cgroup.controllers').split(/\s+/))) {
        try {
          writeFileSync(join(this.fsRoot, s.dir, 'cgroup.subtree_control'), s.value);
        } catch {
          /* already, or not delegable */
        }
      }
    }
    for (const { controller, dir } of this.dirs(path)) {
      mkdirSync(dir, { recursive: true });
      for (const f of files.filter((x) => x.controller === controller)) {
        try {
          writeFileSync(join(dir, f.file), f.value);
        } catch (err) {
          this.log.debug({ file: join(dir, f.file), err: String(err) }, 'could not set a pod cgroup limit');
        }
      }
    }
  }

  private read(file: string): string {
    try {
      return readFileSync(join(this.fsRoot, file), 'utf8');
    } catch {
      return '';
    }
  }

  /** Creates the QoS-level cgroups; BestEffort pods share the minimum CPU weight. */
  async ensureQosRoots(): Promise<void> {
    await this.write(qosComponents(this.o.cgroupRoot, 'Guaranteed'), []);
    await this.write(qosComponents(this.o.cgroupRoot, 'Burstable'), []);
    const min = this.v2
      ? { controller: '', file: 'cpu.weight', value: String(sharesToWeight(MIN_SHARES)) }
      : { controller: 'cpu', file: 'cpu.shares', value: String(MIN_SHARES) };
    await this.write(qosComponents(this.o.cgroupRoot, 'BestEffort'), [min]);
  }

  async ensure(pod: V1Pod): Promise<void> {
    const cfg = podCgroupConfig(pod);
    const memoryRequest = podMemoryRequest(pod);
    await this.write(podComponents(this.o.cgroupRoot, pod), this.files(cfg, memoryRequest), cfg, memoryRequest);
  }

  /**
   * The OOM kills counted in the pod's cgroup wherever its QoS class put it (v2 memory.events, which
   * counts its containers' kills too; v1 memory.oom_control); undefined when there is none to read.
   */
  oomKills(uid: string): number | undefined {
    for (const name of podComponentsAnyQos(this.o.cgroupRoot, uid)) {
      const path = cgroupPath(name, this.o.driver);
      const text = this.v2 ? this.read(join(path, 'memory.events')) : this.read(join('memory', path, 'memory.oom_control'));
      if (text) return parseFlatKeyed(text).oom_kill ?? 0;
    }
    return undefined;
  }

  /** Removes the pod's cgroup wherever its QoS class put it (the class of a vanished pod is unknown). */
  async remove(uid: string): Promise<void> {
    for (const name of podComponentsAnyQos(this.o.cgroupRoot, uid)) {
      if (this.o.driver === 'systemd') {
        try {
          await this.bus(stopSliceArgs(sliceName(name)));
        } catch {
          /* not loaded */
        }
      }
      for (const { dir } of this.dirs(cgroupPath(name, this.o.driver))) rmTree(dir);
    }
  }
}

function rmTree(dir: string): void {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    /* a process is still in it, or gone */
  }
}
