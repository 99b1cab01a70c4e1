// Where a pod's kubelet-managed files live, in upstream's layout under the kubelet's root dir:
//   pods/<uid>/volumes/kubernetes.io~<plugin>/<volume>
//   pods/<uid>/containers/<container>/<random>    termination message files
//   pods/<uid>/etc-hosts
import { join } from 'node:path';
import type { V1Volume } from '@kubernetes/client-node';

export type Plugin = 'empty-dir' | 'configmap' | 'secret' | 'downward-api' | 'projected' | 'host-path';

export const podDir = (root: string, uid: string) => join(root, 'pods', uid);
export const volumesDir = (root: string, uid: string) => join(podDir(root, uid), 'volumes');
export const volumeDir = (root: string, uid: string, plugin: Plugin, name: string) => join(volumesDir(root, uid), `kubernetes.io~${plugin}`, name);
export const etcHostsPath = (root: string, uid: string) => join(podDir(root, uid), 'etc-hosts');
export const containerDir = (root: string, uid: string, container: string) => join(podDir(root, uid), 'containers', container);

export function pluginOf(v: V1Volume): Plugin | undefined {
  if (v.emptyDir) return 'empty-dir';
  if (v.configMap) return 'configmap';
  if (v.secret) return 'secret';
  if (v.downwardAPI) return 'downward-api';
  if (v.projected) return 'projected';
  if (v.hostPath) return 'host-path';
  return undefined;
}

/** Volumes the kubelet fills from the API are mounted read-only into containers. */
export const apiDataPlugin = (p: Plugin | undefined) => p === 'configmap' || p === 'secret' || p === 'downward-api' || p === 'projected';

/** tmpfs-backed: Memory emptyDirs and the volumes that may hold secrets. */
export const inMemory = (v: V1Volume) => v.emptyDir?.medium === 'Memory' || !!v.secret || !!v.projected || !!v.downwardAPI;
