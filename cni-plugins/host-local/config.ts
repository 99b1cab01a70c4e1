// host-local's view of the network config: ranges (new style, old single-range style and the
// runtime's ipRanges capability), requested IPs (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips),
// routes, dataDir and resolvConf. Pure; messages follow the reference.
import { parseCniArgs } from '../skel/args.ts';
import { versionAtLeast } from '../skel/version.ts';
import { parseCIDR, parseIP, type IP } from '../../agents/api/ip.ts';
import type { Route } from '../skel/result.ts';
import { canonicalizeRangeSet, rangeSetOverlaps, type RangeConf, type RangeSet } from './range.ts';

export const DEFAULT_DATA_DIR = '/var/lib/cni/networks';

export interface IPAMConfig {
  name: string;
  type: string;
  dataDir: string;
  resolvConf: string;
  routes: Route[];
  ranges: RangeSet[];
  requestedIPs: IP[];
}

type Json = Record<string, unknown>;

function requestedIP(s: unknown): IP {
  // ips may carry a prefix ("10.0.0.5/24"); only the address matters
  const text = String(s);
  const ip = parseIP(text) ?? parseCIDR(text)?.ip;
  if (!ip) throw new Error(`invalid IP address: ${text}`);
  return ip;
}

function parseRoutes(v: unknown): Route[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error('json: cannot unmarshal routes');
  return v.map((r: Json) => {
    if (!parseCIDR(String(r.dst))) throw new Error(`invalid CIDR address: ${String(r.dst)}`);
    const out: Route = { dst: String(r.dst) };
    if (r.gw !== undefined && r.gw !== '') {
      if (!parseIP(String(r.gw))) throw new Error(`invalid IP address: ${String(r.gw)}`);
      out.gw = String(r.gw);
    }
    return out;
  });
}

export function loadIPAMConfig(conf: Json, cniArgs: string): IPAMConfig {
  const ipam = conf.ipam as Json | undefined;
  if (!ipam || typeof ipam !== 'object') throw new Error("IPAM config missing 'ipam' key");
  const requested: IP[] = [];
  const envArgs = parseCniArgs(cniArgs, ['IP']);
  if (envArgs.IP) requested.push(requestedIP(envArgs.IP));
  const argIps = ((conf.args as Json | undefined)?.cni as Json | undefined)?.ips;
  if (Array.isArray(argIps)) requested.push(...argIps.map(requestedIP));
  const rt = (conf.runtimeConfig ?? {}) as Json;
  if (Array.isArray(rt.ips)) requested.push(...rt.ips.map(requestedIP));

  const rangeConfs: RangeConf[][] = [];
  if (Array.isArray(rt.ipRanges)) rangeConfs.push(...(rt.ipRanges as RangeConf[][]));
  if (typeof ipam.subnet === 'string' && ipam.subnet) rangeConfs.push([ipam as RangeConf]);
  if (ipam.ranges !== undefined && ipam.ranges !== null) {
    if (!Array.isArray(ipam.ranges)) throw new Error('json: cannot unmarshal ranges');
    rangeConfs.push(...(ipam.ranges as RangeConf[][]));
  }
  if (rangeConfs.length === 0) throw new Error('no IP ranges specified');
  const ranges = rangeConfs.map((rc, i) => {
    try {
      return canonicalizeRangeSet(rc);
    } catch (e) {
      throw new Error(`invalid range set ${i}: ${(e as Error).message}`);
    }
  });
  const v4 = ranges.filter((r) => r[0].subnet.ip.v === 4).length;
  const v6 = ranges.length - v4;
  const version = typeof conf.cniVersion === 'string' && conf.cniVersion ? conf.cniVersion : '0.1.0';
  if ((v4 > 1 || v6 > 1) && !versionAtLeast(version, '0.3.0')) {
    throw new Error(`CNI version ${version} does not support more than 1 address per family`);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (rangeSetOverlaps(ranges[i], ranges[j])) throw new Error(`range set ${i} overlaps with ${j}`);
    }
  }
  return {
    name: String(conf.name),
    type: String(ipam.type ?? ''),
    dataDir: typeof ipam.dataDir === 'string' && ipam.dataDir ? ipam.dataDir : DEFAULT_DATA_DIR,
    resolvConf: typeof ipam.resolvConf === 'string' ? ipam.resolvConf : '',
    routes: parseRoutes(ipam.routes),
    ranges,
    requestedIPs: requested,
  };
}
