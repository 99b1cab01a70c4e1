// The bridge plugin's network config, with the reference's defaults and checks. Pure.
import { parseCniArgs } from '../skel/args.ts';
import type { DNS } from '../skel/result.ts';

export interface BridgeConf {
  name: string;
  cniVersion: string;
  bridge: string;
  isGateway: boolean;
  isDefaultGateway: boolean;
  forceAddress: boolean;
  ipMasq: boolean;
  mtu: number;
  hairpinMode: boolean;
  promiscMode: boolean;
  vlan: number;
  macspoofchk: boolean;
  enabledad: boolean;
  ipamType: string;
  dns: DNS;
  /** requested container MAC (CNI_ARGS MAC=, args.cni.mac, runtimeConfig.mac; last wins) */
  mac: string;
  prevResult?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function field<T>(c: Json, key: string, kind: 'boolean' | 'number' | 'string', dflt: T): T {
  const v = c[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== kind || (kind === 'number' && !Number.isInteger(v))) {
    throw new Error(
      `failed to load netconf: json: cannot unmarshal ${typeof v} into Go struct field NetConf.${key} of type ${kind === 'number' ? 'int' : kind === 'boolean' ? 'bool' : 'string'}`,
    );
  }
  return v as T;
}

const MAC_RE = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$/;

export function loadBridgeConf(c: Json, cniArgs: string): BridgeConf {
  const ipam = (c.ipam ?? {}) as Json;
  if (typeof ipam !== 'object') throw new Error('failed to load netconf: json: cannot unmarshal ipam');
  const conf: BridgeConf = {
    name: String(c.name),
    cniVersion: typeof c.cniVersion === 'string' ? c.cniVersion : '',
    bridge: field(c, 'bridge', 'string', '') || 'cni0',
    isGateway: field(c, 'isGateway', 'boolean', false),
    isDefaultGateway: field(c, 'isDefaultGateway', 'boolean', false),
    forceAddress: field(c, 'forceAddress', 'boolean', false),
    ipMasq: field(c, 'ipMasq', 'boolean', false),
    mtu: field(c, 'mtu', 'number', 0),
    hairpinMode: field(c, 'hairpinMode', 'boolean', false),
    promiscMode: field(c, 'promiscMode', 'boolean', false),
    vlan: field(c, 'vlan', 'number', 0),
    macspoofchk: field(c, 'macspoofchk', 'boolean', false),
    enabledad: field(c, 'enabledad', 'boolean', false),
    ipamType: typeof ipam.type === 'string' ? ipam.type : '',
    dns: (c.dns && typeof c.dns === 'object' ? c.dns : {}) as DNS,
    mac: '',
    prevResult: c.prevResult as Json | undefined,
  };
  if (conf.vlan < 0 || conf.vlan > 4094) throw new Error(`invalid VLAN ID ${conf.vlan} (must be between 0 and 4094)`);
  if (conf.mtu < 0) throw new Error(`invalid MTU ${conf.mtu}`);
  const envMac = parseCniArgs(cniArgs, ['MAC']).MAC;
  if (envMac) conf.mac = envMac;
  const argMac = ((c.args as Json | undefined)?.cni as Json | undefined)?.mac;
  if (typeof argMac === 'string' && argMac) conf.mac = argMac;
  const rtMac = (c.runtimeConfig as Json | undefined)?.mac;
  if (typeof rtMac === 'string' && rtMac) conf.mac = rtMac;
  if (conf.mac && !MAC_RE.test(conf.mac)) throw new Error(`address ${conf.mac}: invalid MAC address`);
  conf.mac = conf.mac.toLowerCase().replace(/-/g, ':');
  if (conf.isDefaultGateway) conf.isGateway = true;
  return conf;
}
