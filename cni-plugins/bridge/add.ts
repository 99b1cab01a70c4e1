// bridge ADD: IPAM first (so a config or exhaustion error leaves nothing behind), then the bridge and
// its gateway address, the veth pair with its container end created straight in CNI_NETNS, the
// container's addresses and routes, and masquerading. Any failure undoes what this call made.
import { CniError, ErrCode } from '../skel/errors.ts';
import { parseResult, resultToVersion, type Result } from '../skel/result.ts';
import type { CmdArgs } from '../skel/skel.ts';
import { validateIfName } from '../skel/env.ts';
import { delegate } from '../pkg/delegate.ts';
import { ipBatch, linkShow } from '../pkg/ip.ts';
import { chainComment, chainName, setupIPMasq, teardownIPMasq } from '../pkg/ipmasq.ts';
import { assertNetns, inNetns, writeSysctl } from '../pkg/netns.ts';
import { randomMac, randomVethName } from '../pkg/random.ts';
import { loadBridgeConf, type BridgeConf } from './config.ts';
import { planGateways } from './gateways.ts';
import { bridgeAddrLines, containerLines, containerSysctls, vethLines } from './plan.ts';
import { ensureBridge, ensureVlanGateway, spoofCheck, waitPortUp } from './links.ts';
import { ExecError, run } from '../pkg/exec.ts';

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

  const br = await ensureBridge(conf, undo);
  const hostVeth = randomVethName();
  const hostMac = randomMac();
  const contMac = conf.mac || randomMac();
  const lines = [`link set dev ${conf.bridge} up${conf.promiscMode ? ' promisc on' : ''}`];
  lines.push(...vethLines({ conf, hostVeth, hostMac, contMac, ifName: a.ifName, netns: a.netns }));
  const gwTarget = conf.vlan ? undefined : conf.bridge;
  if (gwTarget) for (const gw of [...gws.v4, ...gws.v6]) lines.push(...bridgeAddrLines(gwTarget, br.addrs, gw, conf.forceAddress));
  // Pin the bridge MAC so it stops following its lowest-numbered port as veths come and go.
  if (conf.isGateway && !conf.vlan) lines.push(`link set dev ${conf.bridge} address ${br.link.address}`);
  try {
    await ipBatch(lines);
  } catch (e) {
    await run('ip', ['link', 'del', hostVeth]);
    if (e instanceof ExecError && /File exists/.test(e.result.stderr) && (await linkShow(hostVeth)) === null) {
      throw new Error(`container veth name provided (${a.ifName}) already exists`);
    }
    throw e;
  }
  undo.push(() => run('ip', ['link', 'del', hostVeth]));
  writeSysctl(`net/ipv6/conf/${hostVeth}/accept_ra`, '0');
  if (conf.vlan) await run('bridge', ['vlan', 'add', 'dev', hostVeth, 'vid', String(conf.vlan), 'pvid', 'untagged', 'master']).then(check('bridge vlan add'));

  if (conf.macspoofchk) {
    await spoofCheck.setup(hostVeth, contMac, `${a.containerId}-${a.ifName}`);
    undo.push(() => spoofCheck.teardown(`${a.containerId}-${a.ifName}`));
  }

  if (conf.ipamType) {
    await inNetns(a.netns, containerSysctls(a.ifName, conf, result), containerLines(a.ifName, result));
    await waitPortUp(hostVeth);
    if (conf.isGateway && (gws.v4.length || gws.v6.length)) {
      if (conf.vlan) result.interfaces!.push(...(await ensureVlanGateway(conf, br.link, [...gws.v4, ...gws.v6])));
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
  } else {
    await inNetns(a.netns, [], [`link set dev ${a.ifName} up`]);
  }

  // The bridge MAC is known unless it is free to follow its ports (not pinned): then read it again.
  let brMac = br.link.address;
  if (!conf.isGateway || conf.vlan) brMac = (await linkShow(conf.bridge))?.address ?? brMac;
  result.interfaces!.unshift(
    { name: conf.bridge, mac: brMac },
    { name: hostVeth, mac: hostMac },
    { name: a.ifName, mac: contMac, sandbox: a.netns },
  );
  result.dns = conf.dns;
  return resultToVersion(result, a.version);
}

function check(what: string) {
  return (r: { code: number; stderr: string }) => {
    if (r.code !== 0) throw new CniError(ErrCode.internal, `${what}: ${r.stderr.trim()}`);
  };
}
