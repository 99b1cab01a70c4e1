// podnet's VXLAN backend in the kernel, through `ip` and `bridge`: the device, then FDB,
// neighbour and route entries brought to what vxlan-plan.ts decides. Routes carry protocol 66 like
// host-gw's, so that the backend owns every podnet route of the node and a switch of backend
// replaces the other's routes instead of leaving them behind.
import type { V1Node } from '@kubernetes/client-node';
import type { ApiClient } from '../api/client.ts';
import { hostExec, type Exec } from '../api/exec.ts';
import type { Logger } from '../api/log.ts';
import { core } from '../api/paths.ts';
import {
  desiredVxlan,
  publishedMAC,
  selfVtep,
  vxlanChanges,
  VTEP_MAC_ANNOTATION,
  VXLAN_DEVICE,
  VXLAN_OVERHEAD,
  VXLAN_PORT,
  VXLAN_VNI,
  type VxlanState,
} from './vxlan-plan.ts';

export const RT_PROTO = '66';

/** Runs `ip` and `bridge` (the only tools here) in a named network namespace; tests use it. */
export const netnsExec =
  (netns: string): Exec =>
  (cmd, args, input) =>
    hostExec(cmd, ['-n', netns, ...args], input);

const json = async <T>(x: Exec, cmd: 'ip' | 'bridge', args: string[]): Promise<T[]> => JSON.parse((await x(cmd, ['-j', ...args])) || '[]') as T[];

export interface DeviceSpec {
  name: string;
  vni: number;
  port: number;
  localIP: string;
  mac: string;
  address: string;
}

interface LinkInfo {
  ifname: string;
  address: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean } };
}

/** The interface holding an address, and its MTU (the VXLAN device is 50 bytes smaller). */
async function parentOf(x: Exec, ip: string): Promise<{ dev: string; mtu: number }> {
  const links = await json<{ ifname: string; mtu: number; addr_info: { local: string }[] }>(x, 'ip', ['-4', 'addr', 'show']);
  const hit = links.find((l) => l.addr_info.some((a) => a.local === ip));
  if (!hit) throw new Error(`no interface has the node address ${ip}: set --node-ip to one of this host's addresses`);
  return { dev: hit.ifname, mtu: hit.mtu };
}

/** Creates or corrects the VXLAN device; returns its MTU. Recreated when VNI, port or local IP differ. */
export async function ensureDevice(x: Exec, d: DeviceSpec): Promise<number> {
  const parent = await parentOf(x, d.localIP);
  const mtu = parent.mtu - VXLAN_OVERHEAD;
  let link = (await json<LinkInfo>(x, 'ip', ['-d', 'link', 'show'])).find((l) => l.ifname === d.name);
  const info = link?.linkinfo?.info_data;
  if (link && (link.linkinfo?.info_kind !== 'vxlan' || info?.id !== d.vni || info?.local !== d.localIP || info?.port !== d.port || info?.learning)) {
    await x('ip', ['link', 'del', d.name]);
    link = undefined;
  }
  if (!link) {
    await x('ip', [
      'link',
      'add',
      d.name,
      'address',
      d.mac,
      'mtu',
      String(mtu),
      'type',
      'vxlan',
      'id',
      String(d.vni),
      'local',
      d.localIP,
      'dev',
      parent.dev,
      'dstport',
      String(d.port),
      'nolearning',
    ]);
  } else {
    if (link.address !== d.mac) await x('ip', ['link', 'set', d.name, 'address', d.mac]);
    if (link.mtu !== mtu) await x('ip', ['link', 'set', d.name, 'mtu', String(mtu)]);
  }
  const addrs = (await json<{ addr_info: { local: string; prefixlen: number; family: string }[] }>(x, 'ip', ['addr', 'show', 'dev', d.name]))
    .flatMap((l) => l.addr_info)
    .filter((a) => a.family === 'inet')
    .map((a) => `${a.local}/${a.prefixlen}`);
  for (const a of addrs) if (a !== d.address) await x('ip', ['addr', 'del', a, 'dev', d.name]);
  if (!addrs.includes(d.address)) await x('ip', ['addr', 'add', d.address, 'dev', d.name]);
  await x('ip', ['link', 'set', d.name, 'up']);
  return mtu;
}

/** The entries in the kernel: permanent FDB and neighbour entries on the device, every podnet route. */
export async function readState(x: Exec, dev: string): Promise<VxlanState> {
  const fdb = (await json<{ mac: string; dst?: string }>(x, 'bridge', ['fdb', 'show', 'dev', dev]))
    .filter((e) => e.dst && e.mac !== '00:00:00:00:00:00')
    .map((e) => ({ mac: e.mac, dst: e.dst! }));
  const neigh = (await json<{ dst: string; lladdr?: string; state?: string[] }>(x, 'ip', ['-4', 'neigh', 'show', 'dev', dev]))
    .filter((e) => e.lladdr && e.state?.includes('PERMANENT'))
    .map((e) => ({ ip: e.dst, mac: e.lladdr! }));
  const routes = (await json<{ dst: string; gateway?: string; dev: string }>(x, 'ip', ['-4', 'route', 'show', 'proto', RT_PROTO]))
    .filter((r) => r.gateway)
    .map((r) => ({ dst: r.dst, via: r.gateway!, dev: r.dev }));
  return { fdb, neigh, routes };
}

/** Brings the kernel to `want`: deletes first (a MAC or address may move between nodes), then adds. */
export async function applyState(x: Exec, dev: string, want: VxlanState): Promise<{ added: number; removed: number }> {
  const { add, del } = vxlanChanges(await readState(x, dev), want);
  for (const r of del.routes) await x('ip', ['route', 'del', r.dst, 'via', r.via, 'dev', r.dev, 'proto', RT_PROTO]);
  for (const n of del.neigh) await x('ip', ['neigh', 'del', n.ip, 'dev', dev]);
  for (const f of del.fdb) await x('bridge', ['fdb', 'del', f.mac, 'dev', dev, 'dst', f.dst]);
  for (const f of add.fdb) await x('bridge', ['fdb', 'append', f.mac, 'dev', dev, 'dst', f.dst, 'self', 'permanent']);
  for (const n of add.neigh) await x('ip', ['neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', dev, 'nud', 'permanent']);
  for (const r of add.routes) await x('ip', ['route', 'replace', r.dst, 'via', r.via, 'dev', r.dev, 'onlink', 'proto', RT_PROTO]);
  const count = (s: VxlanState) => s.fdb.length + s.neigh.length + s.routes.length;
  return { added: count(add), removed: count(del) };
}

export async function deleteDevice(x: Exec, dev = VXLAN_DEVICE): Promise<void> {
  await x('ip', ['link', 'del', dev]).catch(() => {
    /* already gone */
  });
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
      mtu = await ensureDevice(x, {
        name: dev,
        vni: o.vni ?? VXLAN_VNI,
        port: o.port ?? VXLAN_PORT,
        localIP: vtep.localIP,
        mac: vtep.mac,
        address: vtep.address,
      });
      if (o.api && publishedMAC(self) !== vtep.mac) {
        await o.api.patch(core('nodes', undefined, o.nodeName), { metadata: { annotations: { [VTEP_MAC_ANNOTATION]: vtep.mac } } }, 'merge');
        o.log?.info({ mac: vtep.mac }, 'VTEP MAC published');
      }
      const r = await applyState(x, dev, desiredVxlan(nodes, o.nodeName, dev));
      if (r.added || r.removed) o.log?.info(r, 'VXLAN entries updated');
    },
    mtu: () => mtu,
    stop() {
      /* kernel state stays: pods keep their connectivity while podnet restarts */
    },
  };
}
