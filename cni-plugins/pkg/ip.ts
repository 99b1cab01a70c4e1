// Thin wrappers over iproute2 (`ip -j` JSON output, `ip -batch` for several changes in one exec).
// A netns argument is a path (CNI_NETNS); commands for it run as `ip -n <path via ../>` (netnsName
// below), one exec, or under `nsenter --net=<path>` where that cannot work.
import { existsSync } from 'node:fs';
import { ExecError, run, runOk } from './exec.ts';

// iproute2 opens `-n NAME` as "<its netns dir>/NAME" (/run/netns or /var/run/netns, by build) and
// does not check NAME: "../../../.." climbs from either dir to "/", so an absolute CNI_NETNS path
// appended to it names any nsfs file, and `ip` enters it itself, saving the nsenter exec. The lookup
// walks the netns dir, so this is used only when both candidates exist (runtimes create them).
const CLIMB = '../../../..';
const runDirsExist = () => existsSync('/run/netns') && existsSync('/var/run/netns');

/** The `ip -n` argument that names the netns file at `path`, or undefined when nsenter is needed. */
export function netnsName(path: string): string | undefined {
  return path.startsWith('/') && runDirsExist() ? `${CLIMB}${path}` : undefined;
}

export interface Link {
  ifindex: number;
  ifname: string;
  address: string;
  flags: string[];
  mtu: number;
  operstate: string;
  master?: string;
  link_index?: number;
  promiscuity?: number;
  linkinfo?: {
    info_kind?: string;
    info_data?: Record<string, unknown>;
    info_slave_kind?: string;
    info_slave_data?: Record<string, unknown>;
  };
}
export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  broadcast?: string;
  tentative?: boolean;
}
export interface RouteInfo {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  flags?: string[];
}

function argv(netns: string | undefined, args: readonly string[]): [string, string[]] {
  if (!netns) return ['ip', [...args]];
  const name = netnsName(netns);
  return name ? ['ip', ['-n', name, ...args]] : ['nsenter', [`--net=${netns}`, 'ip', ...args]];
}

/** `ip -j ...` parsed; an empty answer is []. */
export async function ipJson<T>(args: readonly string[], netns?: string): Promise<T[]> {
  const [cmd, a] = argv(netns, ['-j', ...args]);
  const out = await runOk(cmd, a);
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}

/** Run several ip commands in one exec; the first failing line fails the batch. */
export async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const [cmd, a] = argv(netns, ['-batch', '-']);
  await runOk(cmd, a, { input: lines.join('\n') + '\n' });
}

/**
 * Several ip commands in one exec, show commands printing JSON (one line each); the exit status and
 * stderr as they are, with iproute2's "Command failed -:N" trailer dropped from stderr.
 */
export async function ipBatchJson(lines: readonly string[], netns?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, a] = argv(netns, ['-j', '-batch', '-']);
  const r = await run(cmd, a, { input: lines.join('\n') + '\n' });
  return { ...r, stderr: r.stderr.replace(/^Command failed -:\d+\s*$/m, '').trim() };
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ExecError && /does not exist|Cannot find device|not found/i.test(e.result.stderr);
}

/** The link by name (with -d details), or null when there is none. */
export async function linkShow(name: string, netns?: string): Promise<Link | null> {
  const [cmd, a] = argv(netns, ['-j', '-d', 'link', 'show', 'dev', name]);
  const r = await run(cmd, a);
  if (r.code !== 0) {
    const e = new ExecError(`ip link show ${name}`, r);
    if (isNotFound(e)) return null;
    throw e;
  }
  return (JSON.parse(r.stdout) as Link[])[0] ?? null;
}

export async function addrList(dev: string, netns?: string): Promise<AddrInfo[]> {
  const links = await ipJson<{ addr_info: AddrInfo[] }>(['addr', 'show', 'dev', dev], netns);
  return links[0]?.addr_info ?? [];
}

export async function routeList(family: 4 | 6, netns?: string): Promise<RouteInfo[]> {
  return ipJson<RouteInfo>([`-${family}`, 'route', 'show', 'table', 'main'], netns);
}
