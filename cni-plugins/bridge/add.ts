// bridge ADD: IPAM first (so a config or exhaustion error leaves nothing behind), then the host side
// (bridge, gateway address, veth pair; host.ts), the container's addresses and routes, and
// masquerading. Any failure undoes what this call made, IPAM allocation included.
import type { CniError } from '../skel/errors.ts';
import { parseResult, resultToVersion, type Result } from '../skel/result.ts';
import type { CmdArgs } from '../skel/skel.ts';
import { validateIfName } from '../skel/env.ts';
import { delegate } from '../pkg/delegate.ts';
import { linkShow, type Link } from '../pkg/ip.ts';
import { chainComment, chainName, setupIPMasq, teardownIPMasq } from '../pkg/ipmasq.ts';
import { assertNetns, inNetns, writeSysctl } from '../pkg/netns.ts';
import { loadBridgeConf, type BridgeConf } from './config.ts';
import { planGateways } from './gateways.ts';
import { setupHost } from './host.ts';
import { ensureVlanGateway, spoofCheck, waitPortUp } from './links.ts';
import { containerLines, containerSysctls } from './plan.ts';

type Undo = () => Promise<unknown>;

export async function cmdAdd(a: CmdArgs): Promise<Record<string, unknown>> {
  const conf = loadBridgeConf(a.conf, a.args);
  if (conf.hairpinMode && conf.promiscMode) throw new Error('cannot set hairpin mode and promiscuous mode at the same time.');
  try {
    validateIfName(conf.bridge);
  } catch (e) {
    throw new Error(`failed to create bridge "${conf.bridge}": ${(e as CniError).message}`);
  }
  assertNetns(a.netns);
  const undo: Undo[] = [];
  try {
    return await addSteps(a, conf, undo);
  } catch (e) {
    for (const u of undo.reverse()) await u().catch(() => {});
    throw e;
  }
}

async function addSteps(a: CmdArgs, conf: BridgeConf, undo: Undo[]): Promise<Record<string, unknown>> {
  const result: Result = { cniVersion: a.version, interfaces: [], ips: [], routes: [], dns: conf.dns };
  if (conf.ipamType) {
    const raw = await delegate('ADD', conf.ipamType, a.stdin, a.env);
    undo.push(() => delegate('DEL', conf.ipamType, a.stdin, a.env));
    const ipam = parseResult(raw ?? {});
    result.ips = ipam.ips;
    result.routes = ipam.routes;
    if (!result.ips?.length) throw new Error('IPAM plugin returned missing IP config');
  }
  const gws = planGateways(result, conf);
  const host = await setupHost(conf, a.ifName, a.netns, gws, undo);
  const refId = `${a.containerId}-${a.ifName}`;
  if (conf.macspoofchk) {
    undo.push(() => spoofCheck.teardown(refId));
    await spoofCheck.setup(host.hostVeth, host.contMac, refId);
  }

  // Container side, ending with a look at the container end: when it is up with carrier, so is the
  // host end (each end's carrier is the other's admin state), which is what the reference waits for.
  const lines = conf.ipamType ? containerLines(a.ifName, result) : [`link set dev ${a.ifName} up`];
  const sysctls = conf.ipamType ? containerSysctls(a.ifName, conf, result) : [];
  const out = await inNetns(a.netns, sysctls, [...lines, `link show dev ${a.ifName}`], { json: true });
  const cont = (JSON.parse(out.trim().split('\n').pop() || '[]') as Link[])[0];
  if (conf.ipamType) {
    if (cont?.operstate !== 'UP') await waitPortUp(host.hostVeth);
    if (conf.isGateway && (gws.v4.length || gws.v6.length)) {
      if (conf.vlan) result.interfaces!.push(...(await ensureVlanGateway(conf, [...gws.v4, ...gws.v6])));
      if (gws.v4.length) writeSysctl('net/ipv4/ip_forward', '1');
      if (gws.v6.length) writeSysctl('net/ipv6/conf/all/forwarding', '1');
    }
    if (conf.ipMasq) {
      const chain = chainName(conf.name, a.containerId);
      const comment = chainComment(conf.name, a.containerId);
      for (const ipc of result.ips ?? []) {
        undo.push(() => teardownIPMasq(ipc.address, chain, comment));
        await setupIPMasq(ipc.address, chain, comment);
      }
    }
  }
  // an unpinned bridge (VLAN mode) may have taken a new port's MAC since the host batch looked
  if (conf.vlan) host.brMac = (await linkShow(conf.bridge))?.address ?? host.brMac;
  result.interfaces!.unshift(
    { name: conf.bridge, mac: host.brMac },
    { name: host.hostVeth, mac: host.hostMac },
    { name: a.ifName, mac: host.contMac, sandbox: a.netns },
  );
  result.dns = conf.dns;
  return resultToVersion(result, a.version);
}
