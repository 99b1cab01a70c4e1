// Sets up a pod's volumes on the node before its containers start, keeps API-sourced contents
// current (configMap, secret, downwardAPI and projected volumes follow updates), turns volumeMounts
// into CRI mounts (subPath and subPathExpr included), and removes it all when the pod goes.
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1Container, V1Pod, V1Volume } from '@kubernetes/client-node';
import { runOk } from '../../api/exec.ts';
import { MountPropagation, type MountPropagation__Output } from '../cri/api-types.ts';
import type { NodeAllocatable } from '../pods/env.ts';
import { expand } from '../pods/env.ts';
import { bytes } from '../../api/quantity.ts';
import { writePayload } from './atomic-writer.ts';
import { type ClaimLookups, resolveClaim } from './claims.ts';
import { resolveSubPath } from './subpath.ts';
import { apiDataPlugin, inMemory, pluginOf, podDir, volumeDir, volumesDir, type Plugin } from './paths.ts';
import {
  configMapPayload,
  downwardAPIPayload,
  DEFAULT_MODE,
  projectedPayload,
  secretPayload,
  VolumeError,
  type ObjectLookups,
  type Payload,
} from './payload.ts';

export interface MountedVolume {
  name: string;
  hostPath: string;
  plugin: Plugin;
  readOnly: boolean;
}

export interface CriMount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
  propagation?: MountPropagation__Output;
}

export interface VolumeManagerOptions {
  rootDir: string;
  lookups: ObjectLookups;
  /** claims and volumes for persistentVolumeClaim volumes, and the node they must be on */
  claims?: ClaimLookups & { nodeName: string };
  allocatable(): NodeAllocatable;
}

/**
 * Whether `dir` is the root of a mount: its device differs from its parent's. Two stat calls, where
 * the mount table costs a read of /proc/self/mountinfo that grows with every container's mounts on
 * the node: a profile of a lab kubelet with 30 pods had 4.4 of its 15 s of pod syncs there, because
 * every sync re-checks each pod's in-memory volumes (the service-account token's among them).
 */
export function isMountPoint(dir: string): boolean {
  try {
    return statSync(dir).dev !== statSync(dirname(dir)).dev;
  } catch {
    return false;
  }
}

/** Mount points under `dir`, deepest first, from the mount table. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return mountinfo
    .split('\n')
    .map((l) => unescape(l.split(' ')[4] ?? ''))
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

const PROPAGATION: Record<string, MountPropagation__Output> = {
  None: MountPropagation.PROPAGATION_PRIVATE,
  HostToContainer: MountPropagation.PROPAGATION_HOST_TO_CONTAINER,
  Bidirectional: MountPropagation.PROPAGATION_BIDIRECTIONAL,
};

function checkHostPath(path: string, type: string): void {
  const st = existsSync(path) ? statSync(path) : undefined;
  const fail = (what: string) => {
    throw new VolumeError(`hostPath type check failed: ${path} is not a ${what}`);
  };
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) mkdirSync(path, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) fail('directory');
      return;
    case 'Directory':
      if (!st?.isDirectory()) fail('directory');
      return;
    case 'FileOrCreate':
      if (!st) closeSync(openSync(path, 'a', 0o644));
      else if (!st.isFile()) fail('file');
      return;
    case 'File':
      if (!st?.isFile()) fail('file');
      return;
    case 'Socket':
      if (!st?.isSocket()) fail('socket');
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) fail('character device');
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) fail('block device');
      return;
    default:
      return;
  }
}

/** An emptyDir's root, as upstream leaves it: 0777 (tmpfs: its default 1777), setgid with an fsGroup. */
export const emptyDirMode = (v: V1Volume, fsGroup?: number) => (v.emptyDir?.medium === 'Memory' ? 0o1777 : 0o777) | (fsGroup !== undefined ? 0o2000 : 0);

export class VolumeManager {
  constructor(private o: VolumeManagerOptions) {}

  private async ensureTmpfs(dir: string, sizeBytes: number | undefined): Promise<void> {
    mkdirSync(dir, { recursive: true });
    if (isMountPoint(dir)) return;
    const opts = ['mode=1777', ...(sizeBytes ? [`size=${sizeBytes}`] : [])].join(',');
    await runOk('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  }

  private payloadOf(pod: V1Pod, v: V1Volume, podIPs: string[], hostIPs: string[]): Payload {
    const ns = pod.metadata!.namespace!;
    const ctx = { podIPs, hostIPs, allocatable: this.o.allocatable() };
    if (v.configMap) return configMapPayload(ns, v.configMap, this.o.lookups, v.configMap.defaultMode ?? DEFAULT_MODE);
    if (v.secret) return secretPayload(ns, v.secret, this.o.lookups, v.secret.defaultMode ?? DEFAULT_MODE);
    if (v.downwardAPI) return downwardAPIPayload(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, ctx);
    return projectedPayload(pod, v.projected!, this.o.lookups, ctx);
  }

  /**
   * Makes every volume ready and refreshes API-sourced contents. Throws a VolumeError whose message
   * is upstream's FailedMount text for the first volume that cannot be set up.
   */
  async setup(pod: V1Pod, podIPs: string[], hostIPs: string[]): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata!.uid!;
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const out = new Map<string, MountedVolume>();
    for (const v of pod.spec?.volumes ?? []) {
      const plugin = pluginOf(v);
      try {
        if (v.persistentVolumeClaim) {
          if (!this.o.claims) throw new VolumeError('persistentVolumeClaim volumes are not supported by this kubelet');
          const m = resolveClaim(pod.metadata!.namespace!, v, this.o.claims, this.o.claims.nodeName);
          if (m.create) mkdirSync(m.path, { recursive: true, mode: 0o777 });
          checkHostPath(m.path, m.type);
          // a host directory like a hostPath volume: teardown never removes it
          out.set(v.name, { name: v.name, hostPath: m.path, plugin: 'host-path', readOnly: m.readOnly });
          continue;
        }
        if (!plugin) throw new VolumeError('volume type is not supported by this kubelet');
        if (plugin === 'host-path') {
          checkHostPath(v.hostPath!.path, v.hostPath!.type ?? '');
          out.set(v.name, { name: v.name, hostPath: v.hostPath!.path, plugin, readOnly: false });
          continue;
        }
        const dir = volumeDir(this.o.rootDir, uid, plugin, v.name);
        if (inMemory(v)) await this.ensureTmpfs(dir, v.emptyDir?.sizeLimit ? bytes(v.emptyDir.sizeLimit) : undefined);
        else mkdirSync(dir, { recursive: true });
        if (plugin === 'empty-dir') {
          if (fsGroup !== undefined) chownSync(dir, 0, fsGroup);
          chmodSync(dir, emptyDirMode(v, fsGroup));
        } else {
          writePayload(dir, this.payloadOf(pod, v, podIPs, hostIPs), fsGroup);
        }
        out.set(v.name, { name: v.name, hostPath: dir, plugin, readOnly: apiDataPlugin(plugin) });
      } catch (err) {
        throw new VolumeError(`MountVolume.SetUp failed for volume ${JSON.stringify(v.name)} : ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** The CRI mounts of a container's volumeMounts; `env` expands subPathExpr. */
  mountsFor(c: V1Container, vols: Map<string, MountedVolume>, env: Map<string, string>): CriMount[] {
    const out: CriMount[] = [];
    for (const m of c.volumeMounts ?? []) {
      const v = vols.get(m.name);
      if (!v) throw new VolumeError(`cannot find volume ${JSON.stringify(m.name)} to mount into container ${JSON.stringify(c.name)}`);
      let hostPath = v.hostPath;
      const sub = m.subPathExpr ? expand(m.subPathExpr, (n) => env.get(n)) : m.subPath;
      if (sub) hostPath = resolveSubPath(v.hostPath, sub, v.name, !v.readOnly);
      out.push({
        containerPath: m.mountPath,
        hostPath,
        readonly: !!m.readOnly || v.readOnly,
        propagation: PROPAGATION[m.mountPropagation ?? 'None'] ?? MountPropagation.PROPAGATION_PRIVATE,
      });
    }
    return out;
  }

  /** Unmounts and removes everything the kubelet made for the pod (never a hostPath). */
  async teardown(uid: string): Promise<void> {
    const dir = podDir(this.o.rootDir, uid);
    if (!existsSync(dir)) return;
    for (const m of mountsUnder(volumesDir(this.o.rootDir, uid))) {
      await runOk('umount', [m]).catch(() => runOk('umount', ['-l', m]).catch(() => undefined));
    }
    if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }

  /** Pod directories of pods the kubelet no longer knows (deleted while it was down). */
  leftovers(known: Set<string>): string[] {
    const pods = join(this.o.rootDir, 'pods');
    return existsSync(pods) ? readdirSync(pods).filter((uid) => !known.has(uid)) : [];
  }
}
