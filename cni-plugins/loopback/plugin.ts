// loopback: bring "lo" up in the container (ADD), down (DEL), and check that it is up (CHECK).
// The result lists lo with its loopback addresses, or passes a prevResult through unchanged.
import { CniError, ErrCode } from '../skel/errors.ts';
import { parseResult, resultToVersion, type IPConfig, type Result } from '../skel/result.ts';
import type { CmdArgs, PluginFuncs } from '../skel/skel.ts';
import { assertNetns, netnsGone } from '../pkg/netns.ts';
import { ipBatchJson, type AddrInfo } from '../pkg/ip.ts';
import { parseIP } from '../../agents/api/ip.ts';

function isLoopback(addr: string): boolean {
  const ip = parseIP(addr);
  if (!ip) return false;
  return ip.v === 4 ? ip.n >> 24n === 127n : ip.n === 1n;
}

async function add(a: CmdArgs): Promise<Record<string, unknown>> {
  assertNetns(a.netns);
  // one `ip` in the container's netns: up, then the addresses (the batch stops at a failing line)
  const r = await ipBatchJson(['link set dev lo up', 'addr show dev lo'], a.netns);
  if (r.code !== 0) throw new Error(r.stderr || 'failed to set lo up');
  const addrs = (JSON.parse(r.stdout) as Array<{ addr_info: AddrInfo[] }>)[0]?.addr_info ?? [];
  const ips: IPConfig[] = [];
  for (const fam of ['inet', 'inet6'] as const) {
    const list = addrs.filter((x) => x.family === fam);
    const bad = list.find((x) => !isLoopback(x.local));
    if (bad) throw new Error(`loopback interface found with non-loopback address "${bad.local}"`);
    if (list.length) ips.push({ interface: 0, address: `${list[0].local}/${list[0].prefixlen}` });
  }
  if (a.conf.prevResult && typeof a.conf.prevResult === 'object') {
    return resultToVersion(parseResult(a.conf.prevResult as Record<string, unknown>), a.version);
  }
  const result: Result = { cniVersion: a.version, interfaces: [{ name: 'lo', mac: '00:00:00:00:00:00', sandbox: a.netns }], ips, dns: {} };
  return resultToVersion(result, a.version);
}

async function del(a: CmdArgs): Promise<undefined> {
  if (!a.netns || netnsGone(a.netns)) return undefined;
  assertNetns(a.netns);
  const r = await ipBatchJson(['link set dev lo down'], a.netns);
  if (r.code !== 0) throw new Error(r.stderr);
  return undefined;
}

async function check(a: CmdArgs): Promise<undefined> {
  assertNetns(a.netns);
  const r = await ipBatchJson(['link show dev lo'], a.netns);
  if (r.code !== 0) throw new CniError(ErrCode.internal, r.stderr);
  const flags = (JSON.parse(r.stdout) as Array<{ flags: string[] }>)[0]?.flags ?? [];
  if (!flags.includes('UP')) throw new Error('loopback interface is down');
  return undefined;
}

export const loopback: PluginFuncs = { add, del, check, about: 'hawser-cni-plugin loopback' };
