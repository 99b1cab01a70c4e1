// The host half of bridge ADD in one `ip -batch`: bridge up, veth pair (container end created straight
// in CNI_NETNS), bridge port, hairpin, gateway address, MAC pin; the batch ends by printing the
// bridge's state. A resident daemon remembers that state, so its next ADD skips the query that would
// otherwise come first; the printout tells whether the remembered state still held, and if it did not
// (bridge recreated, address removed), the missing part is redone from fresh state.
import { ExecError, run, runOk } from '../pkg/exec.ts';
import { linkShow, type AddrInfo, type Link } from '../pkg/ip.ts';
import { writeSysctl } from '../pkg/netns.ts';
import { randomMac, randomVethName } from '../pkg/random.ts';
import type { BridgeConf } from './config.ts';
import type { GatewayPlan } from './gateways.ts';
import { bridgeState, ensureBridge, type BridgeState } from './links.ts';
import { bridgeAddrLines, vethLines } from './plan.ts';

type Undo = () => Promise<unknown>;

let cacheEnabled = false;
const cache = new Map<string, BridgeState>();
/** Remember bridge state between ADDs (only for a long-lived process). */
export function enableBridgeCache(): void {
  cacheEnabled = true;
}

export interface HostSide {
  hostVeth: string;
  hostMac: string;
  contMac: string;
  brMac: string;
}

function gatewayLines(conf: BridgeConf, br: BridgeState, gws: GatewayPlan): string[] {
  if (conf.vlan) return []; // with a VLAN the gateway lives on <bridge>.<vlan> (links.ts)
  const lines = [...gws.v4, ...gws.v6].flatMap((gw) => bridgeAddrLines(conf.bridge, br.addrs, gw, conf.forceAddress));
  // Pin the bridge MAC so it stops following its lowest-numbered port as veths come and go.
  if (conf.isGateway) lines.push(`link set dev ${conf.bridge} address ${br.link.address}`);
  return lines;
}

function parseState(stdout: string): BridgeState | null {
  const last = stdout.trim().split('\n').pop();
  if (!last) return null;
  const [l] = JSON.parse(last) as Array<Link & { addr_info?: AddrInfo[] }>;
  return l ? { link: l, addrs: l.addr_info ?? [] } : null;
}

/** Did the state the batch assumed hold? (same bridge, every gateway address present) */
function assumptionHeld(assumed: BridgeState, seen: BridgeState | null, conf: BridgeConf, gws: GatewayPlan): boolean {
  if (!seen || seen.link.ifindex !== assumed.link.ifindex || seen.link.address !== assumed.link.address) return false;
  if (conf.vlan) return true;
  const have = new Set(seen.addrs.map((a) => `${a.local}/${a.prefixlen}`));
  return [...gws.v4, ...gws.v6].every((g) => have.has(g));
}

export async function setupHost(conf: BridgeConf, ifName: string, netns: string, gws: GatewayPlan, undo: Undo[]): Promise<HostSide> {
  const cached = cacheEnabled ? cache.get(conf.bridge) : undefined;
  const br = cached ?? (await ensureBridge(conf, undo));
  const side = { hostVeth: randomVethName(), hostMac: randomMac(), contMac: conf.mac || randomMac(), brMac: br.link.address };
  let gateway: string[];
  try {
    gateway = gatewayLines(conf, br, gws);
  } catch (e) {
    // a remembered address of another subnet may have been removed since (podnet takes a former
    // podCIDR's gateway off the bridge): judge the conflict on fresh state, as a fresh ADD would
    if (!cached) throw e;
    cache.delete(conf.bridge);
    return setupHost(conf, ifName, netns, gws, undo);
  }
  const lines = [
    `link set dev ${conf.bridge} up${conf.promiscMode ? ' promisc on' : ''}`,
    ...vethLines({ conf, hostVeth: side.hostVeth, hostMac: side.hostMac, contMac: side.contMac, ifName, netns }),
    ...gateway,
    `addr show dev ${conf.bridge}`,
  ];
  let out: string;
  try {
    out = await runOk('ip', ['-j', '-d', '-batch', '-'], { input: lines.join('\n') + '\n' });
  } catch (e) {
    await run('ip', ['link', 'del', side.hostVeth]);
    if (cached) {
      cache.delete(conf.bridge); // the remembered bridge may be gone: start over from fresh state
      return setupHost(conf, ifName, netns, gws, undo);
    }
    if (e instanceof ExecError && /File exists/.test(e.result.stderr) && (await linkShow(side.hostVeth)) === null) {
      throw new Error(`container veth name provided (${ifName}) already exists`);
    }
    throw e;
  }
  undo.push(() => run('ip', ['link', 'del', side.hostVeth]));
  let seen = parseState(out);
  if (cached && !assumptionHeld(cached, seen, conf, gws)) {
    // redo the bridge part from what is there now (may refuse a conflicting address, as a fresh ADD would)
    cache.delete(conf.bridge);
    const fresh = await ensureBridge(conf, undo);
    const fix = gatewayLines(conf, fresh, gws);
    if (fix.length) await runOk('ip', ['-batch', '-'], { input: fix.join('\n') + '\n' });
    seen = (await bridgeState(conf.bridge)) ?? fresh;
    side.brMac = seen.link.address;
  } else if (seen) {
    side.brMac = seen.link.address;
  }
  if (cacheEnabled && seen && conf.isGateway && !conf.vlan) cache.set(conf.bridge, seen);
  writeSysctl(`net/ipv6/conf/${side.hostVeth}/accept_ra`, '0');
  if (!cached) writeSysctl(`net/ipv6/conf/${conf.bridge}/accept_ra`, '0');
  if (conf.vlan) await runOk('bridge', ['vlan', 'add', 'dev', side.hostVeth, 'vid', String(conf.vlan), 'pvid', 'untagged', 'master']);
  return side;
}
