// portmap: a chained plugin that forwards host ports (capabilities.portMappings, passed by the runtime
// as runtimeConfig.portMappings) to the container address from prevResult, through iptables-restore.
// It passes prevResult through unchanged.
import type { CmdArgs, PluginFuncs } from '../skel/skel.ts';
import { resultToVersion } from '../skel/result.ts';
import { run, runOk } from '../pkg/exec.ts';
import { writeSysctl } from '../pkg/netns.ts';
import { formatIP, parseCIDR } from '../../agents/api/ip.ts';
import { addRestore, delRestore, dnatRules, parsePortMapConf, parseSave, type PortMapConf } from './rules.ts';

function load(a: CmdArgs): PortMapConf {
  try {
    return parsePortMapConf(a.conf, a.ifName);
  } catch (e) {
    throw new Error(`failed to parse config: ${(e as Error).message}`);
  }
}

const tool = (v6: boolean): string => (v6 ? 'ip6tables' : 'iptables');

async function natSave(v6: boolean): Promise<ReturnType<typeof parseSave> | null> {
  const r = await run(`${tool(v6)}-save`, ['-t', 'nat']);
  return r.code === 0 ? parseSave(r.stdout) : null;
}

/** 127/8 must be able to cross into the container's interface for localhost hostPorts (as the reference). */
async function enableLocalnet(contIP: string): Promise<void> {
  const r = await run('ip', ['-j', 'route', 'get', contIP]);
  if (r.code !== 0) return;
  const dev = (JSON.parse(r.stdout) as Array<{ dev?: string }>)[0]?.dev;
  if (dev && !writeSysctl(`net/ipv4/conf/${dev}/route_localnet`, '1')) throw new Error('unable to enable route_localnet');
}

async function forward(conf: PortMapConf, containerId: string, contNet: string): Promise<void> {
  const v6 = contNet.includes(':');
  const save = await natSave(v6);
  if (!save) throw new Error(`failed to open ${tool(v6)}`);
  if (conf.snat && !v6) await enableLocalnet(formatIP(parseCIDR(contNet)!.ip));
  await runOk(`${tool(v6)}-restore`, ['-w', '--noflush'], { input: addRestore(conf, containerId, contNet, save) });
  // stale UDP conntrack entries would keep sending to an old destination (informative failures only)
  for (const pm of conf.portMappings) {
    if (pm.protocol.toLowerCase() === 'udp') await run('conntrack', ['-D', '-f', v6 ? 'ipv6' : 'ipv4', '-p', 'udp', '--dport', String(pm.hostPort)]);
  }
}

async function add(a: CmdArgs): Promise<Record<string, unknown>> {
  const conf = load(a);
  if (!conf.prevResult) throw new Error('must be called as chained plugin');
  if (conf.portMappings.length) {
    if (conf.contV4) await forward(conf, a.containerId, conf.contV4);
    if (conf.contV6) await forward(conf, a.containerId, conf.contV6);
  }
  return resultToVersion(conf.prevResult, a.version);
}

async function del(a: CmdArgs): Promise<undefined> {
  const conf = load(a);
  if (!conf.portMappings.length) return undefined;
  let usable = 0;
  for (const v6 of [false, true]) {
    const save = await natSave(v6);
    if (!save) continue;
    usable++;
    const input = delRestore(conf.name, a.containerId, save);
    if (input) await runOk(`${tool(v6)}-restore`, ['-w', '--noflush'], { input });
  }
  if (!usable) throw new Error('neither iptables nor ip6tables usable');
  return undefined;
}

async function check(a: CmdArgs): Promise<undefined> {
  const conf = load(a);
  if (!conf.prevResult) throw new Error('Required prevResult missing');
  if (!conf.portMappings.length) return undefined;
  for (const net of [conf.contV4, conf.contV6]) {
    if (!net) continue;
    const v6 = net.includes(':');
    const d = dnatRules(conf, a.containerId, net);
    const present = (chain: string, rule: string[]) => run(tool(v6), ['-w', '-t', 'nat', '-C', chain, ...rule]).then((r) => r.code === 0);
    if ((await run(tool(v6), ['-w', '-t', 'nat', '-S', d.chain])).code !== 0) throw new Error(`chain ${d.chain} not found in iptables table nat`);
    for (const r of d.rules) if (!(await present(d.chain, r))) throw new Error(`rule ${r.join(' ')} in chain ${d.chain} not found in table nat`);
    for (const e of d.entry)
      if (!(await present('CNI-HOSTPORT-DNAT', e))) throw new Error(`rule ${e.join(' ')} in chain CNI-HOSTPORT-DNAT not found in table nat`);
  }
  return undefined;
}

export const portmap: PluginFuncs = { add, del, check, about: 'hawser-cni-plugin portmap' };
