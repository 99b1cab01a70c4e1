// Which pod, container instance or sandbox a request means. The API objects say what may exist
// (the pod and its container names); the runtime says which instances do: the kubelet labels each
// with the pod uid and container name, and metadata.attempt counts restarts, so the newest instance
// is the current one and the one before it is what `--previous` asks for. Pure.
import type { V1Pod } from '@kubernetes/client-node';
import type { Container__Output as Container, PodSandbox__Output as PodSandbox } from '../cri/api-types.ts';
import { badRequest, HttpError, podNotFound } from './status.ts';

export function findPod(pods: V1Pod[], namespace: string, name: string, uid?: string): V1Pod {
  const pod = pods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === name);
  // a uid in the path pins one incarnation of the pod: a recreated pod of the same name is not it
  if (!pod || (uid && pod.metadata?.uid !== uid)) throw podNotFound(name);
  return pod;
}

export function containerNames(pod: V1Pod): string[] {
  const s = pod.spec;
  return [...(s?.initContainers ?? []), ...(s?.containers ?? []), ...(s?.ephemeralContainers ?? [])].map((c) => c.name);
}

export function requireContainer(pod: V1Pod, container: string): void {
  if (!containerNames(pod).includes(container)) {
    throw new HttpError(404, `container "${container}" not found in pod "${pod.metadata?.name}"`, { name: container, kind: 'containers' });
  }
}

/** Instances of one container, newest first (restart attempt, then creation time). */
export function newestFirst(cs: Container[]): Container[] {
  return [...cs].sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
}

/** The instance whose log is wanted: the current one, or with `previous` the one before it. */
export function logInstance(instances: Container[], previous: boolean, pod: string, container: string): Container {
  const [current, before] = newestFirst(instances);
  if (previous) {
    if (!before) throw badRequest(`previous terminated container "${container}" in pod "${pod}" not found`);
    return before;
  }
  if (!current) throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
  return current;
}

/** The instance to exec in or attach to: the current one, which must be running. */
export function runningInstance(instances: Container[], pod: string, container: string): Container {
  const current = newestFirst(instances)[0];
  if (!current) throw badRequest(`container "${container}" in pod "${pod}" is waiting to start: ContainerCreating`);
  if (current.state !== 'CONTAINER_RUNNING') throw badRequest(`container "${container}" in pod "${pod}" is not running`);
  return current;
}

/** The pod's ready sandbox (the newest when a restart left an old one behind). */
export function readySandbox(sandboxes: PodSandbox[], pod: string): PodSandbox {
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY').sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!ready) throw badRequest(`pod "${pod}" has no running sandbox`);
  return ready;
}
