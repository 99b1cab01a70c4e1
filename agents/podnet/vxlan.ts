// podnet's VXLAN backend in the kernel, through `ip` and `bridge`: the device, then FDB,
// neighbour and route entries brought to what vxlan-plan.ts decides. Routes carry protocol 66 like
// host-gw's, so that the backend owns every podnet route of the node and a switch of backend
// replaces the other's routes instead of leaving them behind.
import { execFileSync } from 'node:child_process';
import type { V1Node } from '@kubernetes/client-node';
import type { ApiClient } from '../api/client.ts';
import type { Logger } from '../api/log.ts';
import { core } from '../api/paths.ts';
import {
  desiredVxlan, publishedMAC, selfVtep, vxlanChanges, VTEP_MAC_ANNOTATION, VXLAN_DEVICE, VXLAN_OVERHEAD, VXLAN_PORT, VXLAN_VNI,
  type VxlanState,
} from './vxlan-plan.ts';

export const RT_PROTO = '66';

/** Runs `ip` or `bridge`; tests pass one that targets a network namespace. */
export type Exec = (cmd: 'ip' | 'bridge', args: string[]) => string;

export const hostExec: Exec = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
export const netnsExec = (netns: string): Exec => (cmd, args) => hostExec(cmd, ['-n', netns, ...args]);

const json = <T>(x: Exec, cmd: 'ip' | 'bridge', args: string[]): T[] => JSON.parse(x(cmd, ['-j', ...args]) || '[]') as T[];

export interface DeviceSpec { name: string; vni: number; port: number; localIP: string; mac: string; address: string }

interface LinkInfo {
  ifname: string; address: string; mtu: number; flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean } };
}

/** The interface holding an address, and its MTU (the VXLAN device is 50 bytes smaller). */
function parentOf(x: Exec, ip: string): { dev: string; mtu: number } {
  const links = json<{ ifname: string; mtu: number; addr_info: { local: string }[] }>(x, 'ip', ['-4', 'addr', 'show']);
  const hit = links.find((l) => l.addr_info.some((a) => a.local === ip));
  if (!hit) throw new Error(`no interface has the node address ${ip}: set --node-ip to one of this host's addresses`);
  return { dev: hit.ifname, mtu: hit.mtu };
}

/** Creates or corrects the VXLAN device; returns its MTU. Recreated when VNI, port or local IP differ. */
export function ensureDevice(x: Exec, d: DeviceSpec): number {
  const parent = parentOf(x, d.localIP);
  const mtu = parent.mtu - VXLAN_OVERHEAD;
  let link = json<LinkInfo>(x, 'ip', ['-d', 'link', 'show']).find((l) => l.ifname === d.name);
  const info = link?.linkinfo?.info_data;
  if (link && (link.linkinfo?.info_kind !== 'vxlan' || info?.id !== d.vni || info?.local !== d.localIP || info?.port !== d.port || info?.learning)) {
    x('ip', ['link', 'del', d.name]);
    link = undefined;
  }
  if (!link) {
    x('ip', ['link', 'add', d.name, 'address', d.mac, 'mtu', String(mtu), 'type', 'vxlan', 'id', String(d.vni),
      'local', d.localIP, 'dev', parent.dev, 'dstport', String(d.port), 'nolearning']);
  } else {
    if (link.address !== d.mac) x('ip', ['link', 'set', d.name, 'address', d.mac]);
    if (link.mtu !== mtu) x('ip', ['link', 'set', d.name, 'mtu', String(mtu)]);
  }
  const addrs = json<{ addr_info: { local: string; prefixlen: number; family: string }[] }>(x, 'ip', ['addr', 'show', 'dev', d.name])
    .flatMap((l) => l.addr_info).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
  for (const a of addrs) if (a !== d.address) x('ip', ['addr', 'del', a, 'dev', d.name]);
  if (!addrs.includes(d.address)) x('ip', ['addr', 'add', d.address, 'dev', d.name]);
  x('ip', ['link', 'set', d.name, 'up']);
  return mtu;
}

/** The entries in the kernel: permanent FDB and neighbour entries on the device, every podnet route. */
export function readState(x: Exec, dev: string): VxlanState {
  const fdb = json<{ mac: string; dst?: string }>(x, 'bridge', ['fdb', 'show', 'dev', dev])
    .filter((e) => e.dst && e.mac !== '00:00:00:00:00:00').map((e) => ({ mac: e.mac, dst: e.dst! }));
  const neigh = json<{ dst: string; lladdr?: string; state?: string[] }>(x, 'ip', ['-4', 'neigh', 'show', 'dev', dev])
    .filter((e) => e.lladdr && e.state?.includes('PERMANENT')).map((e) => ({ ip: e.dst, mac: e.lladdr! }));
  const routes = json<{ dst: string; gateway?: string; dev: string }>(x, 'ip', ['-4', 'route', 'show', 'proto', RT_PROTO])
    .filter((r) => r.gateway).map((r) => ({ dst: r.dst, via: r.gateway!, dev: r.dev }));
  return { fdb, neigh, routes };
}

/** Brings the kernel to `want`: deletes first (a MAC or address may move between nodes), then adds. */
export function applyState(x: Exec, dev: string, want: VxlanState): { added: number; removed: number } {
  const { add, del } = vxlanChanges(readState(x, dev), want);
  for (const r of del.routes) x('ip', ['route', 'del', r.dst, 'via', r.via, 'dev', r.dev, 'proto', RT_PROTO]);
  for (const n of del.neigh) x('ip', ['neigh', 'del', n.ip, 'dev', dev]);
  for (const f of del.fdb) x('bridge', ['fdb', 'del', f.mac, 'dev', dev, 'dst', f.dst]);
  for (const f of add.fdb) x('bridge', ['fdb', 'append', f.mac, 'dev', dev, 'dst', f.dst, 'self', 'permanent']);
  for (const n of add.neigh) x('ip', ['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', dev, 'nud', 'permanent']);
  for (const r of add.routes) x('ip', ['route', 'replace', r.dst, 'via', r.via, 'dev', r.dev, 'onlink', 'proto', RT_PROTO]);
  const count = (s: VxlanState) => s.fdb.length + s.neigh.length + s.routes.length;
  return { added: count(add), removed: count(del) };
}

export function deleteDevice(x: Exec, dev = VXLAN_DEVICE): void {
  try { x('ip', ['link', 'del', dev]); } catch { /* already gone */ }
}

export interface VxlanOptions {
  nodeName: string;
  /** overrides the Node's InternalIP as the VTEP's local address */
  nodeIP?: string;
  api?: ApiClient;
  log?: Logger;
  device?: string;
  vni?: number;
  port?: number;
  exec?: Exec;
}

export interface VxlanBackend {
  /** one reconcile from the informer's node list; safe to call repeatedly */
  reconcile(nodes: V1Node[]): Promise<void>;
  /** the pods' MTU (the device's), once the device exists */
  mtu(): number | undefined;
  stop(): void;
}

/**
 * The backend podnet.ts calls on every node change. It waits until this node has an InternalIP
 * and a podCIDR, then keeps the device, the published VTEP MAC annotation and the entries right.
 */
export function startVxlan(o: VxlanOptions): VxlanBackend {
  const x = o.exec ?? hostExec;
  const dev = o.device ?? VXLAN_DEVICE;
  let mtu: number | undefined;
  return {
    async reconcile(nodes) {
      const self = nodes.find((n) => n.metadata?.name === o.nodeName);
      const vtep = selfVtep(self, o.nodeIP);
      if (!self || !vtep) return;
      mtu = ensureDevice(x, { name: dev, vni: o.vni ?? VXLAN_VNI, port: o.port ?? VXLAN_PORT, localIP: vtep.localIP, mac: vtep.mac, address: vtep.address });
      if (o.api && publishedMAC(self) !== vtep.mac) {
        await o.api.patch(core('nodes', undefined, o.nodeName), { metadata: { annotations: { [VTEP_MAC_ANNOTATION]: vtep.mac } } }, 'merge');
        o.log?.info({ mac: vtep.mac }, 'VTEP MAC published');
      }
      const r = applyState(x, dev, desiredVxlan(nodes, o.nodeName, dev));
      if (r.added || r.removed) o.log?.info(r, 'VXLAN entries updated');
    },
    mtu: () => mtu,
    stop() { /* kernel state stays: pods keep their connectivity while podnet restarts */ },
  };
}
