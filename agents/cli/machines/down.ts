// `hawser lab down --machines` (make vm-lab-down): every machine powered off (systemd inside stops
// its units), then whatever still lives in the machines' cgroups killed, the cgroups, the overlay
// mounts, the bridge and its rule, the registry and the state dir removed. The rootfs cache stays.
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { stopProc } from '../lab/procs.ts';
import { destroyMachineNetwork } from './network.ts';
import { cgroupPids, hierarchies, isMounted, machineCgroups, nspawnPid, nspawnRunDir, removeCgroupTree } from './nspawn.ts';
import { registryPathsOf } from './up.ts';
import { machineLab, type Machine, type MachineLab } from './topology.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** nspawn turns SIGTERM into an orderly poweroff of the machine; SIGKILL after graceMs. */
export async function powerOff(lab: MachineLab, m: Machine, graceMs = 20_000): Promise<void> {
  const pid = nspawnPid(m);
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const deadline = Date.now() + graceMs;
    while (nspawnPid(m) && Date.now() < deadline) await sleep(100);
  }
  const cgroups = machineCgroups(lab, m);
  for (let i = 0; i < 50; i++) {
    const pids = cgroupPids(cgroups);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
}

function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && (p === dir || p.startsWith(`${dir}/`)));
  for (const p of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', p], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  }
}

const nspawnRunning = (): boolean =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .some((d) => {
      // a zombie nspawn (not yet reaped by PID 1) holds nothing
      try {
        return / \(systemd-nspawn\) [^Z]/.test(readFileSync(`/proc/${d}/stat`, 'utf8'));
      } catch {
        return false;
      }
    });

export async function machinesDown(o: { stateDir?: string; cacheDir?: string } = {}): Promise<string[]> {
  const lab = machineLab(o);
  await Promise.all(lab.machines.map((m) => powerOff(lab, m)));
  await stopProc(registryPathsOf(lab).pidFile);
  unmountUnder(lab.stateDir);
  const left: string[] = [];
  for (const h of hierarchies()) left.push(...removeCgroupTree(join(h, lab.cgroupParent)));
  destroyMachineNetwork(lab);
  if (isMounted(nspawnRunDir) && !nspawnRunning()) {
    try {
      execFileSync('umount', [nspawnRunDir], { stdio: 'ignore' });
    } catch {
      /* busy */
    }
  }
  if (existsSync(lab.stateDir)) rmSync(lab.stateDir, { recursive: true, force: true });
  return left;
}
