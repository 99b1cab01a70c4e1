// portmap's config and iptables rules, pure: the same chains, rules and comments as the reference
// (CNI-HOSTPORT-DNAT from PREROUTING/OUTPUT for local destinations, a per-container CNI-DN-<hash>
// chain doing DNAT, and a mark-then-masquerade pair for hairpin and localhost traffic).
import { chainName } from '../pkg/ipmasq.ts';
import { formatIP, parseCIDR, parseIP } from '../../agents/api/ip.ts';
import { parseResult, type Result } from '../skel/result.ts';

export const TOP_DNAT = 'CNI-HOSTPORT-DNAT';
export const SETMARK = 'CNI-HOSTPORT-SETMARK';
export const MARK_MASQ = 'CNI-HOSTPORT-MASQ';
export const OLD_TOP_SNAT = 'CNI-HOSTPORT-SNAT';

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

export interface PortMapConf {
  name: string;
  snat: boolean;
  markMasqBit: number;
  externalSetMarkChain?: string;
  conditionsV4?: string[];
  conditionsV6?: string[];
  portMappings: PortMapping[];
  prevResult?: Result;
  /** the container's addresses (CIDR), picked from prevResult */
  contV4?: string;
  contV6?: string;
}

type Json = Record<string, unknown>;

export function parsePortMapConf(c: Json, ifName: string): PortMapConf {
  const rt = (c.runtimeConfig ?? {}) as Json;
  const maps = (Array.isArray(rt.portMappings) ? rt.portMappings : []) as PortMapping[];
  if (c.markMasqBit !== undefined && c.externalSetMarkChain !== undefined) throw new Error('Cannot specify externalSetMarkChain and markMasqBit');
  const markMasqBit = c.markMasqBit === undefined ? 13 : Number(c.markMasqBit);
  if (!Number.isInteger(markMasqBit) || markMasqBit < 0 || markMasqBit > 31) throw new Error('MasqMarkBit must be between 0 and 31');
  for (const pm of maps) {
    if (!(pm.containerPort > 0)) throw new Error(`Invalid container port number: ${pm.containerPort}`);
    if (!(pm.hostPort > 0)) throw new Error(`Invalid host port number: ${pm.hostPort}`);
  }
  const conf: PortMapConf = {
    name: String(c.name),
    snat: c.snat === undefined || c.snat === null ? true : c.snat === true,
    markMasqBit,
    externalSetMarkChain: typeof c.externalSetMarkChain === 'string' ? c.externalSetMarkChain : undefined,
    conditionsV4: Array.isArray(c.conditionsV4) ? (c.conditionsV4 as string[]) : undefined,
    conditionsV6: Array.isArray(c.conditionsV6) ? (c.conditionsV6 as string[]) : undefined,
    portMappings: maps,
  };
  if (c.prevResult && typeof c.prevResult === 'object') {
    conf.prevResult = parseResult(c.prevResult as Json);
    const ifaces = conf.prevResult.interfaces ?? [];
    for (const ip of conf.prevResult.ips ?? []) {
      const v4 = !ip.address.includes(':');
      if (v4 ? conf.contV4 : conf.contV6) continue;
      // skip addresses of interfaces known not to be the sandbox's
      if (ip.interface !== undefined && ip.interface >= 0 && ip.interface < ifaces.length) {
        const i = ifaces[ip.interface];
        if (i.name !== ifName || !i.sandbox) continue;
      }
      if (v4) conf.contV4 = ip.address;
      else conf.contV6 = ip.address;
    }
  }
  return conf;
}

export const dnatChainName = (network: string, containerId: string): string => chainName(network, containerId, 'DN-');
export const oldSnatChainName = (network: string, containerId: string): string => chainName(network, containerId, 'SN-');

/** An iptables-restore argument, quoted when it has to be. */
export function q(arg: string): string {
  return /^[A-Za-z0-9_.:/,!+=@%^-]+$/.test(arg) ? arg : JSON.stringify(arg);
}
const line = (args: string[]): string => args.map(q).join(' ');

function markDef(bit: number): string {
  const v = (1 << bit) >>> 0;
  return `0x${v.toString(16)}/0x${v.toString(16)}`;
}

/** The shared chains' rules as iptables-save prints them (used to tell whether they are there). */
export function sharedRules(conf: PortMapConf): { setmark: string; masq: string; postrouting: string; entries: string[] } {
  const m = markDef(conf.markMasqBit);
  return {
    setmark: `-A ${SETMARK} -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark ${m}`,
    masq: `-A ${MARK_MASQ} -m mark --mark ${m} -j MASQUERADE`,
    postrouting: `-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j ${MARK_MASQ}`,
    entries: ['PREROUTING', 'OUTPUT'].map((c) => `-A ${c} -m addrtype --dst-type LOCAL -j ${TOP_DNAT}`),
  };
}

function groupPorts(maps: PortMapping[]): Array<[string, string]> {
  const byProto = new Map<string, number[]>();
  for (const m of maps) byProto.set(m.protocol, [...(byProto.get(m.protocol) ?? []), m.hostPort]);
  const out: Array<[string, string]> = [];
  for (const proto of [...byProto.keys()].sort()) {
    const ports = byProto.get(proto)!;
    for (let i = 0; i < ports.length; i += 15) out.push([proto, ports.slice(i, i + 15).join(',')]); // multiport takes 15
  }
  return out;
}

/** Rules of the per-container chain, and the entry rules jumping to it from CNI-HOSTPORT-DNAT. */
export function dnatRules(conf: PortMapConf, containerId: string, contNet: string): { chain: string; entry: string[][]; rules: string[][] } {
  const c = parseCIDR(contNet);
  if (!c) throw new Error(`invalid container address ${contNet}`);
  const v6 = c.ip.v === 6;
  const chain = dnatChainName(conf.name, containerId);
  let comment = `dnat name: "${conf.name}" id: "${containerId}"`;
  if (comment.length > 255) comment = comment.slice(0, 253) + '...';
  const cond = (v6 ? conf.conditionsV6 : conf.conditionsV4) ?? [];
  const entry = groupPorts(conf.portMappings).map(([proto, ports]) => [
    '-m',
    'comment',
    '--comment',
    comment,
    '-m',
    'multiport',
    '-p',
    proto,
    '--destination-ports',
    ports,
    ...cond,
    '-j',
    chain,
  ]);
  const setMark = conf.externalSetMarkChain ?? SETMARK;
  const rules: string[][] = [];
  const contIP = formatIP(c.ip);
  for (const e of conf.portMappings) {
    let dst: string[] = [];
    if (e.hostIP) {
      const h = parseIP(e.hostIP);
      if (!h) continue;
      if ((h.v === 6) !== v6) continue;
      if (h.n !== 0n) dst = ['-d', e.hostIP];
    }
    const base = ['-p', e.protocol, '--dport', String(e.hostPort), ...dst];
    if (conf.snat) {
      rules.push([...base, '-s', contNet, '-j', setMark]);
      if (!v6) rules.push([...base, '-s', '127.0.0.1', '-j', setMark]);
    }
    rules.push([...base, '-j', 'DNAT', '--to-destination', v6 ? `[${contIP}]:${e.containerPort}` : `${contIP}:${e.containerPort}`]);
  }
  return { chain, entry, rules };
}

/** Chain names declared in an iptables-save dump of one table, and its -A lines. */
export function parseSave(dump: string): { chains: Set<string>; rules: string[] } {
  const chains = new Set<string>();
  const rules: string[] = [];
  for (const l of dump.split('\n')) {
    if (l.startsWith(':')) chains.add(l.slice(1).split(' ')[0]);
    else if (l.startsWith('-A ')) rules.push(l);
  }
  return { chains, rules };
}

/** iptables-restore --noflush input that installs the mappings for one container address. */
export function addRestore(conf: PortMapConf, containerId: string, contNet: string, save: { chains: Set<string>; rules: string[] }): string {
  const out = ['*nat'];
  const have = new Set(save.rules);
  const shared = sharedRules(conf);
  const declare = (chain: string): void => {
    if (!save.chains.has(chain)) out.push(`:${chain} - [0:0]`);
  };
  if (conf.snat && !conf.externalSetMarkChain) {
    declare(SETMARK);
    if (!have.has(shared.setmark)) out.push(shared.setmark);
    declare(MARK_MASQ);
    if (!have.has(shared.masq)) out.push(shared.masq);
    if (!have.has(shared.postrouting)) out.push(shared.postrouting.replace('-A POSTROUTING', '-I POSTROUTING 1'));
  }
  declare(TOP_DNAT);
  for (const e of shared.entries) if (!have.has(e)) out.push(e);
  const d = dnatRules(conf, containerId, contNet);
  // the container's own chain: declared (so flushed) and written afresh; its old entry rules go first
  out.push(`:${d.chain} - [0:0]`);
  for (const r of save.rules) if (r.startsWith(`-A ${TOP_DNAT} `) && r.endsWith(` -j ${d.chain}`)) out.push(r.replace('-A ', '-D '));
  for (const r of d.rules) out.push(`-A ${d.chain} ${line(r)}`);
  for (const e of d.entry) out.push(`-A ${TOP_DNAT} ${line(e)}`);
  out.push('COMMIT', '');
  return out.join('\n');
}

/** iptables-restore --noflush input that removes one container's chains, or null if none is there. */
export function delRestore(network: string, containerId: string, save: { chains: Set<string>; rules: string[] }): string | null {
  const out = ['*nat'];
  for (const [top, chain] of [
    [TOP_DNAT, dnatChainName(network, containerId)],
    [OLD_TOP_SNAT, oldSnatChainName(network, containerId)],
  ]) {
    for (const r of save.rules) if (r.startsWith(`-A ${top} `) && r.endsWith(` -j ${chain}`)) out.push(r.replace('-A ', '-D '));
    if (save.chains.has(chain)) out.push(`-F ${chain}`, `-X ${chain}`);
  }
  if (out.length === 1) return null;
  out.push('COMMIT', '');
  return out.join('\n');
}
