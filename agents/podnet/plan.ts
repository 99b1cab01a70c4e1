// Pure decisions of the pod network agent: the CNI config for this node's podCIDR, and which
// routes to add or remove so that every other node's podCIDR goes via that node's InternalIP.
import { BlockList } from 'node:net';
import type { V1Node } from '@kubernetes/client-node';

export interface Route {
  dst: string;
  via: string;
}

export const internalIP = (n: V1Node): string | undefined => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;

export function desiredRoutes(nodes: V1Node[], self: string): Route[] {
  return nodes
    .filter((n) => n.metadata?.name !== self)
    .flatMap((n) => {
      const via = internalIP(n);
      const cidrs = n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
      return via ? cidrs.filter((c) => !c.includes(':')).map((dst) => ({ dst, via })) : [];
    })
    .sort((a, b) => a.dst.localeCompare(b.dst));
}

export function routeChanges(current: Route[], desired: Route[]): { add: Route[]; del: Route[] } {
  const key = (r: Route) => `${r.dst} ${r.via}`;
  const have = new Set(current.map(key));
  const want = new Set(desired.map(key));
  return { add: desired.filter((r) => !have.has(key(r))), del: current.filter((r) => !want.has(key(r))) };
}

export interface CniConfigInput {
  podCIDR: string;
  bridge: string;
  ipamDataDir: string;
  mtu?: number;
  portmap: boolean;
}

export function cniConflist(i: CniConfigInput): object {
  return {
    cniVersion: '1.0.0',
    name: 'hawser',
    plugins: [
      {
        type: 'bridge',
        bridge: i.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ...(i.mtu ? { mtu: i.mtu } : {}),
        ipam: { type: 'host-local', ranges: [[{ subnet: i.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: i.ipamDataDir },
      },
      ...(i.portmap ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
    ],
  };
}

/** nat-table rules: pod traffic leaving the cluster CIDR is masqueraded; pod-to-pod is not. */
export function masqueradeRules(clusterCIDR: string): string {
  return [
    '*nat',
    ':HAWSER-POD-MASQ - [0:0]',
    `-A HAWSER-POD-MASQ -d ${clusterCIDR} -j RETURN`,
    '-A HAWSER-POD-MASQ -d 224.0.0.0/4 -j RETURN',
    `-A HAWSER-POD-MASQ -s ${clusterCIDR} -j MASQUERADE`,
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * The bridge's IPv4 addresses ("a.b.c.d/nn") outside this node's podCIDR. They are left from a
 * podCIDR the node had before (its Node object deleted and registered again, and given another
 * range): the bridge plugin refuses to add pods while the bridge holds a gateway address of
 * another subnet ("already has an IP address different from"), so podnet removes them and the
 * next CNI ADD gives the bridge its new gateway. Pods still on the old range lose their network,
 * as they would on a recreated node upstream.
 */
export function staleBridgeAddresses(addrs: string[], podCIDR: string): string[] {
  const [net, bits] = podCIDR.split('/');
  if (!net || net.includes(':')) return [];
  const range = new BlockList();
  range.addSubnet(net, Number(bits), 'ipv4');
  return addrs.filter((a) => {
    const ip = a.split('/')[0];
    return !ip.includes(':') && !range.check(ip, 'ipv4');
  });
}
