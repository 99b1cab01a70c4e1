// bridge DEL: idempotent. A missing netns or interface is not an error; the IPAM release runs anyway,
// and masquerade rules go for every global address the interface had.
import type { CmdArgs } from '../skel/skel.ts';
import { delegate } from '../pkg/delegate.ts';
import { chainComment, chainName, teardownIPMasq } from '../pkg/ipmasq.ts';
import { netnsGone, nsShell, assertNetns } from '../pkg/netns.ts';
import type { AddrInfo } from '../pkg/ip.ts';
import { loadBridgeConf } from './config.ts';
import { spoofCheck } from './links.ts';

// prints the interface's addresses, then deletes it; exit 3 means there was no such interface
const DEL_SCRIPT =
  'out=$(ip -j addr show dev "$1" 2>&1) || { case "$out" in *"does not exist"*) exit 3;; esac; echo "$out" >&2; exit 1; }; ' +
  'ip link del dev "$1" || exit 1; printf "%s" "$out"';

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
  const r = await nsShell(a.netns, DEL_SCRIPT, [a.ifName]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`failed to delete "${a.ifName}": ${r.stderr.trim()}`);
  const addrs: AddrInfo[] = r.code === 0 && r.stdout.trim() ? ((JSON.parse(r.stdout) as Array<{ addr_info: AddrInfo[] }>)[0]?.addr_info ?? []) : [];
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
