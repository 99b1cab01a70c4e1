// Host-side link work for the bridge plugin: the bridge itself, the VLAN gateway link, the bridge
// port's readiness, and the MAC spoof check (nftables bridge-family rules, as the reference sets).
import { run, runOk } from '../pkg/exec.ts';
import { ipBatch, ipJson, linkShow, type AddrInfo, type Link } from '../pkg/ip.ts';
import { writeSysctl } from '../pkg/netns.ts';
import { randomMac, randomVethName } from '../pkg/random.ts';
import type { Interface } from '../skel/result.ts';
import type { BridgeConf } from './config.ts';
import { bridgeAddrLines } from './plan.ts';

export interface BridgeState {
  link: Link;
  addrs: AddrInfo[];
}

/** The bridge's link details and addresses in one exec, or null if there is no such link. */
export async function bridgeState(name: string): Promise<BridgeState | null> {
  const r = await run('ip', ['-j', '-d', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) {
    if (/does not exist/.test(r.stderr)) return null;
    throw new Error(`could not lookup "${name}": ${r.stderr.trim()}`);
  }
  const [l] = JSON.parse(r.stdout) as Array<Link & { addr_info?: AddrInfo[] }>;
  if (!l) return null;
  return { link: l, addrs: l.addr_info ?? [] };
}

/** Create the bridge if needed (a racing creator is fine) and check that what is there is a bridge. */
export async function ensureBridge(conf: BridgeConf, undo: Array<() => Promise<unknown>>): Promise<BridgeState> {
  let st = await bridgeState(conf.bridge);
  if (!st) {
    const args = ['link', 'add', 'name', conf.bridge];
    // a gateway bridge gets a fixed MAC from birth (see the pinning in add.ts)
    if (conf.isGateway && !conf.vlan) args.push('address', randomMac());
    if (conf.mtu) args.push('mtu', String(conf.mtu));
    args.push('type', 'bridge');
    if (conf.vlan) args.push('vlan_filtering', '1');
    const r = await run('ip', args);
    if (r.code !== 0 && !/File exists/.test(r.stderr))
      throw new Error(`failed to create bridge "${conf.bridge}": could not add "${conf.bridge}": ${r.stderr.trim()}`);
    if (r.code === 0) {
      undo.push(() => run('ip', ['link', 'del', conf.bridge]));
      // we own the routes of this interface; set before it first comes up (an existing bridge gets it
      // once the ADD has succeeded, so a failed ADD leaves it untouched)
      writeSysctl(`net/ipv6/conf/${conf.bridge}/accept_ra`, '0');
    }
    st = await bridgeState(conf.bridge);
    if (!st) throw new Error(`failed to create bridge "${conf.bridge}": could not lookup "${conf.bridge}": Link not found`);
  }
  if (st.link.linkinfo?.info_kind !== 'bridge')
    throw new Error(`failed to create bridge "${conf.bridge}": "${conf.bridge}" already exists but is not a bridge`);
  return st;
}

/** Wait until the host end of the pair is operationally up, with the reference's retry schedule. */
export async function waitPortUp(name: string): Promise<void> {
  const schedule = [0, 50, 500, 1000, 1000];
  let state = 'UNKNOWN';
  for (const ms of schedule) {
    if (ms) await new Promise((r) => setTimeout(r, ms));
    const l = await linkShow(name);
    if (!l) throw new Error(`Link not found: ${name}`);
    state = l.operstate;
    if (state === 'UP') return;
  }
  throw new Error(`bridge port in error state: ${state.toLowerCase()}`);
}

/**
 * With a VLAN, the gateway address lives on "<bridge>.<vlan>", one end of a host-side veth pair whose
 * other end is a tagged bridge port. Returns the interface to report (once, when first made or found).
 */
export async function ensureVlanGateway(conf: BridgeConf, gws: string[]): Promise<Interface[]> {
  const name = `${conf.bridge}.${conf.vlan}`;
  let link = await linkShow(name);
  if (!link) {
    const peer = randomVethName();
    const brMtu = (await linkShow(conf.bridge))?.mtu;
    const mtu = brMtu ? ` mtu ${brMtu}` : '';
    await ipBatch([
      `link add ${name}${mtu} txqueuelen 0 type veth peer name ${peer}${mtu} txqueuelen 0`,
      `link set dev ${peer} up`,
      `link set dev ${peer} master ${conf.bridge}`,
    ]);
    writeSysctl(`net/ipv6/conf/${peer}/accept_ra`, '0');
    await runOk('bridge', ['vlan', 'add', 'dev', peer, 'vid', String(conf.vlan), 'pvid', 'untagged', 'master']);
    await ipBatch([`link set dev ${name} up`]);
    link = await linkShow(name);
    if (!link) throw new Error(`failed to lookup "${name}"`);
  }
  const addrs = (await ipJson<{ addr_info: AddrInfo[] }>(['addr', 'show', 'dev', name]))[0]?.addr_info ?? [];
  const lines = gws.flatMap((gw) => bridgeAddrLines(name, addrs, gw, conf.forceAddress));
  if (lines.length) lines.push(`link set dev ${name} address ${link.address}`);
  await ipBatch(lines);
  return [{ name, mac: link.address }];
}

/** MAC spoof check: frames entering from the host veth must carry the container's MAC. */
export const spoofCheck = {
  async setup(hostVeth: string, mac: string, refId: string): Promise<void> {
    const chain = `cni-br-iface-${refId}`;
    const c = `comment "macspoofchk-${refId}"`;
    const script = [
      'table bridge nat {',
      '  chain PREROUTING { type filter hook prerouting priority -300; policy accept; }',
      `  chain ${chain} { }`,
      `  chain ${chain}-mac { }`,
      '}',
      `flush chain bridge nat ${chain}`,
      `flush chain bridge nat ${chain}-mac`,
      `add rule bridge nat PREROUTING iifname "${hostVeth}" jump ${chain} ${c}`,
      `add rule bridge nat ${chain} jump ${chain}-mac ${c}`,
      `add rule bridge nat ${chain}-mac ether saddr ${mac} return ${c}`,
      `add rule bridge nat ${chain}-mac drop ${c}`,
      '',
    ].join('\n');
    await runOk('nft', ['-f', '-'], { input: script }).catch((e: Error) => {
      throw new Error(`failed to setup spoof-check: ${e.message}`);
    });
  },
  async teardown(refId: string): Promise<void> {
    const chain = `cni-br-iface-${refId}`;
    const listing = await run('nft', ['-a', 'list', 'chain', 'bridge', 'nat', 'PREROUTING']);
    const lines: string[] = [];
    for (const l of listing.stdout.split('\n')) {
      const m = /jump (\S+) comment "macspoofchk-.*" # handle (\d+)/.exec(l);
      if (m && m[1] === chain) lines.push(`delete rule bridge nat PREROUTING handle ${m[2]}`);
    }
    lines.push(`delete chain bridge nat ${chain}`, `delete chain bridge nat ${chain}-mac`);
    // each line on its own so one missing piece does not keep the others
    for (const l of lines) await run('nft', [l]);
  },
};
