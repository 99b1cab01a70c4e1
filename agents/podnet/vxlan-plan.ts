// Pure decisions of podnet's VXLAN backend, the layout flannel made familiar: each node has one
// VXLAN device whose address is its podCIDR's network address (x.y.z.0/32) and whose MAC (the
// VTEP MAC) it publishes as a Node annotation. For every other node this node keeps
//   - an FDB entry:   that node's VTEP MAC -> its InternalIP (where to send the UDP packets),
//   - a neighbour:    that node's x.y.z.0 -> its VTEP MAC (no ARP across the overlay),
//   - a route:        its podCIDR via x.y.z.0 dev <device> onlink.
// No learning and no flooding: everything is programmed from the API, so nodes may sit on
// different L2 segments with only IP routing between them.
import { createHash } from 'node:crypto';
import type { V1Node } from '@kubernetes/client-node';
import { formatIP, networkOf, parseCIDR } from '../api/ip.ts';
import { internalIP } from './plan.ts';

export const VTEP_MAC_ANNOTATION = 'hawser.io/vtep-mac';
export const VXLAN_DEVICE = 'hawser.vxlan';
/** flannel's defaults: VNI 1 on the Linux kernel's historical VXLAN port */
export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/** outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) */
export const VXLAN_OVERHEAD = 50;

export interface FdbEntry {
  mac: string;
  dst: string;
}
export interface NeighEntry {
  ip: string;
  mac: string;
}
export interface OverlayRoute {
  dst: string;
  via: string;
  dev: string;
}
export interface VxlanState {
  fdb: FdbEntry[];
  neigh: NeighEntry[];
  routes: OverlayRoute[];
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

/**
 * A stable VTEP MAC per node name: unicast, locally administered. Stable across restarts and device
 * re-creation, so peers' FDB and neighbour entries stay right while the annotation catches up.
 */
export function vtepMAC(nodeName: string): string {
  const b = createHash('sha256').update(`hawser-vtep/${nodeName}`).digest().subarray(0, 6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The network address of a CIDR: the VTEP address of the node that owns it (none for an invalid CIDR). */
export function networkAddress(cidr: string): string | undefined {
  const c = parseCIDR(cidr);
  return c ? formatIP(networkOf(c)) : undefined;
}

const podCIDR = (n: V1Node): string | undefined => (n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])).find((c) => !c.includes(':'));

export const publishedMAC = (n: V1Node): string | undefined => {
  const v = n.metadata?.annotations?.[VTEP_MAC_ANNOTATION]?.toLowerCase();
  return v && MAC.test(v) ? v : undefined;
};

/** Device settings for this node, once it has an InternalIP and a podCIDR. */
export function selfVtep(self: V1Node | undefined, nodeIP?: string): { localIP: string; address: string; mac: string } | undefined {
  const name = self?.metadata?.name;
  const local = nodeIP ?? (self ? internalIP(self) : undefined);
  const gw = self ? networkAddress(podCIDR(self) ?? '') : undefined;
  if (!name || !local || !gw) return undefined;
  return { localIP: local, address: `${gw}/32`, mac: vtepMAC(name) };
}

/** Entries for every other node that has an InternalIP, a podCIDR and a published VTEP MAC. */
export function desiredVxlan(nodes: V1Node[], self: string, dev = VXLAN_DEVICE): VxlanState {
  const out: VxlanState = { fdb: [], neigh: [], routes: [] };
  for (const n of nodes) {
    if (n.metadata?.name === self) continue;
    const ip = internalIP(n);
    const cidr = podCIDR(n);
    const mac = publishedMAC(n);
    if (!ip || !cidr || !mac) continue;
    const gw = networkAddress(cidr);
    if (!gw) continue;
    out.fdb.push({ mac, dst: ip });
    out.neigh.push({ ip: gw, mac });
    out.routes.push({ dst: cidr, via: gw, dev });
  }
  out.fdb.sort((a, b) => a.mac.localeCompare(b.mac));
  out.neigh.sort((a, b) => a.ip.localeCompare(b.ip));
  out.routes.sort((a, b) => a.dst.localeCompare(b.dst));
  return out;
}

function diff<T>(cur: T[], want: T[], key: (x: T) => string): { add: T[]; del: T[] } {
  const have = new Set(cur.map(key));
  const keep = new Set(want.map(key));
  return { add: want.filter((x) => !have.has(key(x))), del: cur.filter((x) => !keep.has(key(x))) };
}

/** What to add and delete to go from the kernel's entries to the desired ones. */
export function vxlanChanges(cur: VxlanState, want: VxlanState): { add: VxlanState; del: VxlanState } {
  const f = diff(cur.fdb, want.fdb, (e) => `${e.mac} ${e.dst}`);
  const n = diff(cur.neigh, want.neigh, (e) => `${e.ip} ${e.mac}`);
  const r = diff(cur.routes, want.routes, (e) => `${e.dst} ${e.via} ${e.dev}`);
  return { add: { fdb: f.add, neigh: n.add, routes: r.add }, del: { fdb: f.del, neigh: n.del, routes: r.del } };
}
