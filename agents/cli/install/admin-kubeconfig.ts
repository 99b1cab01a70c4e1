// The server's admin kubeconfig at a documented path (k3s: /etc/rancher/k3s/k3s.yaml, written by
// --write-kubeconfig): copied from the data dir at every start, so a rotated CA or admin
// certificate reaches it, and written by rename so a reader never sees half a file.
import { chmodSync, copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

export function copyAdminKubeconfig(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  copyFileSync(from, tmp);
  chmodSync(tmp, 0o600);
  renameSync(tmp, to);
}
