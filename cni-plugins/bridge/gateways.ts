// From the IPAM result to what the bridge must configure: gateway per address (network+1 when the IPAM
// plugin gave none and the bridge is the gateway), an added default route for isDefaultGateway, and
// the bridge addresses per family. Pure; mirrors the reference's calcGateways.
import { formatIP, networkOf, nextIP, parseCIDR } from '../../agents/api/ip.ts';
import type { Result } from '../skel/result.ts';
import type { BridgeConf } from './config.ts';

export interface GatewayPlan {
  /** bridge addresses ("gw/prefix") per family, in result order */
  v4: string[];
  v6: string[];
}

export const CONTAINER_IFACE_INDEX = 2; // interfaces[] = [bridge, host veth, container veth]

/** Mutates result.ips (interface index, gateway) and result.routes (default route); returns the bridge addresses. */
export function planGateways(result: Result, conf: Pick<BridgeConf, 'isGateway' | 'isDefaultGateway'>): GatewayPlan {
  const plan: GatewayPlan = { v4: [], v6: [] };
  const defaultFound = { 4: false, 6: false };
  for (const ipc of result.ips ?? []) {
    const cidr = parseCIDR(ipc.address);
    if (!cidr) throw new Error(`Unknown IP object: ${ipc.address}`);
    const fam = cidr.ip.v;
    const defaultDst = fam === 4 ? '0.0.0.0/0' : '::/0';
    ipc.interface = CONTAINER_IFACE_INDEX;
    if (!ipc.gateway && conf.isGateway) ipc.gateway = formatIP(nextIP(networkOf(cidr)));
    if (conf.isDefaultGateway && !defaultFound[fam]) {
      defaultFound[fam] = (result.routes ?? []).some((r) => !!r.gw && sameNet(r.dst, defaultDst));
      if (!defaultFound[fam]) {
        (result.routes ??= []).push(ipc.gateway ? { dst: defaultDst, gw: ipc.gateway } : { dst: defaultDst });
        defaultFound[fam] = true;
      }
    }
    if (conf.isGateway && ipc.gateway) (fam === 4 ? plan.v4 : plan.v6).push(`${ipc.gateway}/${cidr.prefix}`);
  }
  return plan;
}

function sameNet(a: string, b: string): boolean {
  const x = parseCIDR(a);
  const y = parseCIDR(b);
  return !!x && !!y && x.ip.v === y.ip.v && x.prefix === y.prefix && networkOf(x).n === networkOf(y).n;
}
