// The one way the control plane writes a file: whole or not at all (temp file, then rename), with
// exactly the mode asked for. writeFileSync's `mode` applies only when it creates the file, so a
// key or kubeconfig that an older version (or an operator) left at 0644 would otherwise stay so.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Keys, tokens, kubeconfigs, password hashes: readable by root alone. */
export const PRIVATE = 0o600;

export function writeFileAtomic(file: string, text: string, mode = PRIVATE): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
