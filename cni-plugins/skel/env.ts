// The CNI_* environment: which variables each verb needs and how their values are validated
// (same rules and error codes as the reference skel).
import { CniError, ErrCode } from './errors.ts';

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

export interface CmdEnv {
  command: Command;
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  path: string;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

// Which verbs require which variable (CNI_COMMAND is always required).
const REQUIRED: Record<string, readonly string[]> = {
  CNI_CONTAINERID: ['ADD', 'CHECK', 'DEL'],
  CNI_NETNS: ['ADD', 'CHECK'],
  CNI_IFNAME: ['ADD', 'CHECK', 'DEL'],
  CNI_PATH: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'],
};

export function validateContainerId(id: string): void {
  if (!id) throw new CniError(ErrCode.unknownContainer, 'missing containerID');
  if (!NAME_RE.test(id)) throw new CniError(ErrCode.invalidEnv, 'invalid characters in containerID', id);
}

export function validateNetworkName(name: string): void {
  if (!NAME_RE.test(name)) throw new CniError(ErrCode.invalidNetworkConfig, 'invalid characters found in network name', name);
}

/** Kernel interface-name rules: 1..15 bytes, not . or .., no '/', ':' or whitespace. */
export function validateIfName(name: string): void {
  if (name.length === 0) throw new CniError(ErrCode.invalidEnv, 'interface name is empty');
  if (Buffer.byteLength(name) > 15) {
    throw new CniError(ErrCode.invalidEnv, 'interface name is too long', 'interface name should be less than 16 characters');
  }
  if (name === '.' || name === '..') throw new CniError(ErrCode.invalidEnv, 'interface name is . or ..');
  if (/[/:\s]/u.test(name)) throw new CniError(ErrCode.invalidEnv, 'interface name contains / or : or whitespace characters');
}

/** Read and validate the CNI_* variables for the verb named by CNI_COMMAND. */
export function readCmdEnv(env: Record<string, string | undefined>): CmdEnv {
  const command = env.CNI_COMMAND ?? '';
  const missing: string[] = [];
  if (!command) missing.push('CNI_COMMAND');
  for (const [name, verbs] of Object.entries(REQUIRED)) {
    if (!env[name] && verbs.includes(command)) missing.push(name);
  }
  if (missing.length) throw new CniError(ErrCode.invalidEnv, `required env variables [${missing.join(',')}] missing`);
  if (!['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'].includes(command)) {
    throw new CniError(ErrCode.invalidEnv, `unknown CNI_COMMAND: ${command}`);
  }
  const out: CmdEnv = {
    command: command as Command,
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifName: env.CNI_IFNAME ?? '',
    args: env.CNI_ARGS ?? '',
    path: env.CNI_PATH ?? '',
  };
  if (REQUIRED.CNI_CONTAINERID.includes(command)) validateContainerId(out.containerId);
  if (REQUIRED.CNI_IFNAME.includes(command)) validateIfName(out.ifName);
  return out;
}
