// Stops and removes every container and pod sandbox a runtime holds (its CRI namespace, k8s.io for
// containerd), so that the CNI plugins release addresses, veths and netns on the way out, as they
// would for a deleted pod. Used by `lab down` and by `uninstall` after the kubelet has stopped.
import { CriClient } from './client.ts';

/** Returns how many sandboxes were removed; a runtime that does not answer is left alone. */
export async function removeAllPods(socket: string, timeoutMs = 15_000): Promise<number> {
  const cri = new CriClient(socket, { timeoutMs });
  let removed = 0;
  try {
    for (const c of await cri.listContainers()) await cri.stopContainer(c.id, 0).catch(() => undefined);
    for (const s of await cri.listPodSandbox()) {
      await cri.stopPodSandbox(s.id).catch(() => undefined);
      if (
        await cri.removePodSandbox(s.id).then(
          () => true,
          () => false,
        )
      )
        removed++;
    }
  } finally {
    cri.close();
  }
  return removed;
}
