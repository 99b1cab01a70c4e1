// Pod-level cgroups under --cgroup-root, in the QoS layout (<root>/pod<uid> for Guaranteed,
// <root>/burstable/pod<uid>, <root>/besteffort/pod<uid>), limited to the pod's summed requests and
// limits before its containers start, so that a pod as a whole cannot exceed what it declared.
// cgroupfs driver: v1 hierarchies (cpu, memory, pids) or the unified v2 tree.
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../api/log.ts';
import { MIN_SHARES, podCgroupConfig, podCgroupParent, type PodCgroupConfig } from './qos.ts';

const V1_CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'];

/** cgroup v2 cpu.weight from v1 shares, the conversion runc and the kubelet use. */
export const sharesToWeight = (shares: number): number => Math.max(1, Math.min(10000, 1 + Math.floor(((shares - 2) * 9999) / 262142)));

/** The files to write and their values for a pod cgroup config. Pure. */
export function cgroupFiles(cfg: PodCgroupConfig, v2: boolean): { controller: string; file: string; value: string }[] {
  if (v2) {
    return [
      { controller: '', file: 'cpu.weight', value: String(sharesToWeight(cfg.cpuShares)) },
      { controller: '', file: 'cpu.max', value: `${cfg.cpuQuota ?? 'max'} ${cfg.cpuPeriod ?? 100000}` },
      { controller: '', file: 'memory.max', value: cfg.memoryLimitInBytes ? String(cfg.memoryLimitInBytes) : 'max' },
    ];
  }
  return [
    { controller: 'cpu', file: 'cpu.shares', value: String(cfg.cpuShares) },
    ...(cfg.cpuQuota ? [{ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(cfg.cpuPeriod ?? 100000) }] : []),
    { controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(cfg.cpuQuota ?? -1) },
    { controller: 'memory', file: 'memory.limit_in_bytes', value: String(cfg.memoryLimitInBytes ?? -1) },
  ];
}

export class PodCgroups {
  private readonly v2: boolean;

  constructor(private cgroupRoot: string, private log: Logger, private fsRoot = '/sys/fs/cgroup') {
    this.v2 = existsSync(join(fsRoot, 'cgroup.controllers'));
  }

  private dirs(path: string): { controller: string; dir: string }[] {
    if (this.v2) return [{ controller: '', dir: join(this.fsRoot, path) }];
    return V1_CONTROLLERS.filter((c) => existsSync(join(this.fsRoot, c))).map((c) => ({ controller: c, dir: join(this.fsRoot, c, path) }));
  }

  private write(path: string, files: { controller: string; file: string; value: string }[]): void {
    for (const { controller, dir } of this.dirs(path)) {
      mkdirSync(dir, { recursive: true });
      if (this.v2) {
        // controllers must be enabled on every ancestor for the pod's cgroup to get them
        try { writeFileSync(join(dir, '..', 'cgroup.subtree_control'), '+cpu +memory +pids'); } catch { /* already, or not delegable */ }
      }
      for (const f of files.filter((x) => x.controller === controller)) {
        try { writeFileSync(join(dir, f.file), f.value); } catch (err) {
          this.log.debug({ file: join(dir, f.file), err: String(err) }, 'could not set a pod cgroup limit');
        }
      }
    }
  }

  /** Creates the QoS-level cgroups; BestEffort pods share the minimum CPU weight. */
  ensureQosRoots(): void {
    this.write(this.cgroupRoot, []);
    this.write(`${this.cgroupRoot}/burstable`, []);
    this.write(`${this.cgroupRoot}/besteffort`, cgroupFiles({ cpuShares: MIN_SHARES }, this.v2).filter((f) => /shares|weight/.test(f.file)));
  }

  ensure(pod: V1Pod): void {
    this.write(podCgroupParent(this.cgroupRoot, pod), cgroupFiles(podCgroupConfig(pod), this.v2));
  }

  /** Removes the pod's cgroup wherever its QoS class put it (the class of a vanished pod is unknown). */
  remove(uid: string): void {
    const root = this.cgroupRoot.replace(/\/+$/, '');
    for (const path of [`${root}/pod${uid}`, `${root}/burstable/pod${uid}`, `${root}/besteffort/pod${uid}`]) {
      for (const { dir } of this.dirs(path)) rmTree(dir);
    }
  }
}

function rmTree(dir: string): void {
  let entries: import('node:fs').Dirent[];
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
  for (const e of entries) if (e.isDirectory()) rmTree(join(dir, e.name));
  try { rmdirSync(dir); } catch { /* a process is still in it, or gone */ }
}
