// `hawser kubectl ...`: the kubectl installed beside hawser, pointed at the server's admin
// kubeconfig, as `k3s kubectl` is. KUBECONFIG, when set, wins (as with kubectl itself).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LAYOUT } from './layout.ts';

export function kubectlEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.KUBECONFIG ? env : { ...env, KUBECONFIG: LAYOUT.adminKubeconfig };
}

/** Runs kubectl with stdio passed through; returns its exit code. */
export function runKubectl(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  if (!existsSync(LAYOUT.kubectl))
    throw new Error(`${LAYOUT.kubectl} is missing: install hawser from a release (hawser install --from hawser-<version>-linux-amd64.tar.gz)`);
  const e = kubectlEnv(env);
  if (!env.KUBECONFIG && !existsSync(LAYOUT.adminKubeconfig))
    throw new Error(`${LAYOUT.adminKubeconfig} is missing: it is written by the control plane of a server install (hawser install --role server)`);
  const r = spawnSync(LAYOUT.kubectl, args, { stdio: 'inherit', env: e });
  if (r.error) throw r.error;
  return r.status ?? 1;
}
