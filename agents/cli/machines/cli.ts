// The machine lab's two commands as main.ts mounts them under `hawser lab up|down --machines`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoFromBin } from '../lab/up.ts';
import { machinesDown } from './down.ts';
import { machinesUp, showMachines } from './up.ts';

export function defaultRelease(repo: string): string {
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  return join(repo, 'dist/release', `hawser-${version}-linux-amd64.tar.gz`);
}

export async function machinesUpCommand(bin: string, release?: string): Promise<void> {
  const repo = repoFromBin(bin);
  const r = await machinesUp({ repo, release: release ?? defaultRelease(repo), log: (l) => process.stdout.write(`${l}\n`) });
  process.stdout.write(`\n${showMachines(r.lab, join(repo, '.build/bin/kubectl'))}`);
}

export async function machinesDownCommand(): Promise<void> {
  const left = await machinesDown();
  process.stdout.write(left.length ? `machine lab removed, but these cgroups are still busy:\n${left.join('\n')}\n` : 'machine lab removed\n');
}
