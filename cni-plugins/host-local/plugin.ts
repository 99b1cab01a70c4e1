// host-local IPAM verbs. ADD takes one address per range set (honouring requested IPs), DEL frees
// every address of (container, ifname), CHECK looks for one, GC frees addresses of attachments the
// runtime no longer knows. All under the directory lock, so concurrent ADDs never share an address.
import { readFileSync } from 'node:fs';
import { CniError, ErrCode } from '../skel/errors.ts';
import { resultToVersion, type IPConfig, type Result } from '../skel/result.ts';
import type { CmdArgs, PluginFuncs } from '../skel/skel.ts';
import { formatIP, ipEqual, type IP } from '../../agents/api/ip.ts';
import { loadIPAMConfig, type IPAMConfig } from './config.ts';
import { parseResolvConf } from './dns.ts';
import { touchLock, withLock } from './lock.ts';
import { candidates, rangeFor, rangeSetString, type RangeSet } from './range.ts';
import { DiskStore } from './store.ts';

function load(a: CmdArgs): IPAMConfig {
  return loadIPAMConfig(a.conf, a.args);
}

function allocate(store: DiskStore, set: RangeSet, rangeId: number, id: string, ifname: string, requested: IP | undefined): IPConfig {
  const prefix = set[0].subnet.prefix;
  if (requested) {
    const r = rangeFor(set, requested);
    if (!r) throw new Error(`${formatIP(requested)} not in range set ${rangeSetString(set)}`);
    if (ipEqual(requested, r.gateway)) throw new Error(`requested ip ${formatIP(requested)} is subnet's gateway`);
    if (!store.reserve(id, ifname, requested, rangeId)) {
      throw new Error(`requested IP address ${formatIP(requested)} is not available in range set ${rangeSetString(set)}`);
    }
    return { address: `${formatIP(requested)}/${r.subnet.prefix}`, gateway: formatIP(r.gateway) };
  }
  for (const held of store.getByID(id, ifname)) {
    if (rangeFor(set, held)) throw new Error(`${formatIP(held)} has been allocated to ${id}, duplicate allocation is not allowed`);
  }
  for (const c of candidates(set, store.lastReserved(rangeId))) {
    if (store.reserve(id, ifname, c.ip, rangeId)) {
      return { address: `${formatIP(c.ip)}/${c.range.subnet.prefix ?? prefix}`, gateway: formatIP(c.range.gateway) };
    }
  }
  throw new Error(`no IP addresses available in range set: ${rangeSetString(set)}`);
}

async function add(a: CmdArgs): Promise<Record<string, unknown>> {
  const conf = load(a);
  const result: Result = { cniVersion: a.version, ips: [], routes: conf.routes, dns: {} };
  if (conf.resolvConf) result.dns = parseResolvConf(readFileSync(conf.resolvConf, 'utf8'));
  const store = new DiskStore(conf.dataDir, conf.name);
  await withLock(store.dir, () => {
    const pending = [...conf.requestedIPs];
    try {
      conf.ranges.forEach((set, idx) => {
        const i = pending.findIndex((ip) => rangeFor(set, ip));
        const req = i >= 0 ? pending.splice(i, 1)[0] : undefined;
        try {
          result.ips!.push(allocate(store, set, idx, a.containerId, a.ifName, req));
        } catch (e) {
          throw new Error(`failed to allocate for range ${idx}: ${(e as Error).message}`);
        }
      });
      if (pending.length) throw new Error(`failed to allocate all requested IPs: ${pending.map(formatIP).join(' ')}`);
    } catch (e) {
      // give back what this call took before failing
      if (result.ips!.length) store.releaseByID(a.containerId, a.ifName);
      throw e;
    }
  });
  return resultToVersion(result, a.version);
}

async function del(a: CmdArgs): Promise<undefined> {
  const conf = load(a);
  const store = new DiskStore(conf.dataDir, conf.name);
  // Nothing held by (id, ifname): nothing to free, so no lock to take (a `flock` process each; the
  // runtime sends a second DEL per pod, issue #26). An ADD of the same pair racing this DEL ends as if
  // the DEL came first, one of the orders the lock allows. The lock file is still made, as there.
  if (!store.findByID(a.containerId, a.ifName)) {
    touchLock(store.dir);
    return undefined;
  }
  await withLock(store.dir, () => store.releaseByID(a.containerId, a.ifName));
  return undefined;
}

async function check(a: CmdArgs): Promise<undefined> {
  const conf = load(a);
  const store = new DiskStore(conf.dataDir, conf.name);
  const found = await withLock(store.dir, () => store.findByID(a.containerId, a.ifName));
  if (!found) throw new Error(`host-local: Failed to find address added by container ${a.containerId}`);
  return undefined;
}

/** GC (spec 1.1): free every allocation whose (containerID, ifname) is not a valid attachment. */
async function gc(a: CmdArgs): Promise<undefined> {
  const conf = load(a);
  const raw = a.conf['cni.dev/valid-attachments'];
  if (raw !== undefined && !Array.isArray(raw)) throw new CniError(ErrCode.decodingFailure, 'cni.dev/valid-attachments must be a list');
  const valid = new Set(((raw ?? []) as Array<Record<string, unknown>>).map((v) => `${String(v.containerID).trim()}\r\n${String(v.ifname)}`));
  const validIds = new Set(((raw ?? []) as Array<Record<string, unknown>>).map((v) => String(v.containerID).trim()));
  const store = new DiskStore(conf.dataDir, conf.name);
  await withLock(store.dir, () => {
    for (const e of store.entries()) {
      if (!e.ip) continue; // lock, last_reserved_ip.N
      const legacy = !e.owner.includes('\r\n');
      if (legacy ? validIds.has(e.owner) : valid.has(e.owner)) continue;
      store.releaseFile(e.file);
    }
  });
  return undefined;
}

async function status(a: CmdArgs): Promise<undefined> {
  load(a);
  return undefined;
}

export const hostLocal: PluginFuncs = {
  add,
  del,
  check,
  gc,
  status,
  about: 'hawser-cni-plugin host-local',
};
