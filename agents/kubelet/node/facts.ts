// The host facts a Node reports: capacity, OS and kernel, machine identity. Read once at start
// (systeminformation spawns helpers for some of them).
import si from 'systeminformation';
import { mkdirSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';

export interface HostFacts {
  cpus: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  osImage: string;
  kernelVersion: string;
  architecture: string;
  machineID: string;
  systemUUID: string;
  bootID: string;
}

const readTrim = (p: string): string => { try { return readFileSync(p, 'utf8').trim(); } catch { return ''; } };

export async function readHostFacts(rootDir: string): Promise<HostFacts> {
  const [osInfo, mem, uuid] = await Promise.all([si.osInfo(), si.mem(), si.uuid()]);
  // the filesystem holding the kubelet's root dir is the node's ephemeral storage
  mkdirSync(rootDir, { recursive: true });
  const fs = statfsSync(rootDir);
  const archMap: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return {
    cpus: os.availableParallelism(),
    memoryBytes: mem.total,
    ephemeralStorageBytes: fs.blocks * fs.bsize,
    osImage: `${osInfo.distro} ${osInfo.release}${osInfo.codename ? ` (${osInfo.codename})` : ''}`.trim(),
    kernelVersion: osInfo.kernel,
    architecture: archMap[process.arch] ?? process.arch,
    machineID: readTrim('/etc/machine-id') || uuid.os || '',
    systemUUID: readTrim('/sys/class/dmi/id/product_uuid') || uuid.hardware || '',
    bootID: readTrim('/proc/sys/kernel/random/boot_id'),
  };
}
