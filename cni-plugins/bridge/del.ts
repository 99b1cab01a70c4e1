// bridge DEL: idempotent. A missing netns or interface is not an error; the IPAM release runs anyway,
// and masquerade rules go for every global address the interface had.
import type { CmdArgs } from '../skel/skel.ts';
import { delegate } from '../pkg/delegate.ts';
import { chainComment, chainName, teardownIPMasq } from '../pkg/ipmasq.ts';
import { netnsGone, assertNetns } from '../pkg/netns.ts';
import { ipBatchJson, type AddrInfo } from '../pkg/ip.ts';
import { loadBridgeConf } from './config.ts';
import { spoofCheck } from './links.ts';

export async function cmdDel(a: CmdArgs): Promise<undefined> {
  const conf = loadBridgeConf(a.conf, a.args);
  const ipamDel = async () => {
    if (conf.ipamType) await delegate('DEL', conf.ipamType, a.stdin, a.env);
  };
  if (!a.netns || netnsGone(a.netns)) {
    await ipamDel();
    return undefined;
  }
  assertNetns(a.netns);
  // one `ip` in the container's netns: the interface's addresses (for the masquerade rules), then
  // the delete; a first line failing with "does not exist" means there is nothing to delete
  const r = await ipBatchJson([`addr show dev ${a.ifName}`, `link del dev ${a.ifName}`], a.netns);
  const absent = r.code !== 0 && /does not exist/.test(r.stderr) && !r.stdout.trim();
  if (r.code !== 0 && !absent) throw new Error(`failed to delete "${a.ifName}": ${r.stderr}`);
  const addrs: AddrInfo[] =
    r.code === 0 && r.stdout.trim() ? ((JSON.parse(r.stdout.trim().split('\n')[0]) as Array<{ addr_info: AddrInfo[] }>)[0]?.addr_info ?? []) : [];
  await ipamDel();
  if (conf.macspoofchk) await spoofCheck.teardown(`${a.containerId}-${a.ifName}`);
  if (conf.ipamType && conf.ipMasq) {
    const chain = chainName(conf.name, a.containerId);
    const comment = chainComment(conf.name, a.containerId);
    for (const ad of addrs) {
      if (ad.scope !== 'global') continue;
      await teardownIPMasq(`${ad.local}/${ad.prefixlen}`, chain, comment);
    }
  }
  return undefined;
}
