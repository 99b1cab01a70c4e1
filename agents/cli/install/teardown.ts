// What an uninstall takes back that is not a file: the pods the kubelet left running in containerd,
// the kubelet's volume mounts, and the kernel state the agents made (iptables chains, kube-proxy's
// and NetworkPolicy's nftables tables, the pod bridge, the VXLAN device, podnet's routes). Runs after our units stopped
// and before the files go: removing the pods needs the CNI plugins still installed.
import { existsSync, readFileSync } from 'node:fs';
import { hostExec, type Exec } from '../../api/exec.ts';
import { removeAllPods } from '../../kubelet/cri/remove-all.ts';
import { TABLE as KUBE_PROXY_NFT_TABLE } from '../../kube-proxy/nftables/render.ts';
import { SET_PREFIX as NETPOL_SET_PREFIX } from '../../netpol/plan.ts';
import { NFT_TABLE as NETPOL_NFT_TABLE } from '../../netpol/nft-plan.ts';
import { VXLAN_DEVICE } from '../../podnet/vxlan-plan.ts';
import { RT_PROTO } from '../../podnet/vxlan.ts';
import { removalScript } from './ruleset.ts';

const succeeds = (x: Exec, cmd: string, args: string[]): Promise<boolean> =>
  x(cmd, args).then(
    () => true,
    () => false,
  );

export const POD_BRIDGE = 'cni0';

/** Mount points at or under `dir`, deepest first (so that nested mounts come off before their parents). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === base || m.startsWith(`${base}/`)))
    .sort((a, b) => b.length - a.length);
}

/** Kernel state only: chains, the nftables table, links and routes. Returns what it removed. */
export async function removeKernelState(x: Exec): Promise<string[]> {
  const done: string[] = [];
  // kube-proxy may have written through either backend, whichever `iptables` points at; a
  // backend seen twice (iptables is iptables-nft) finds nothing left the second time
  for (const bin of ['iptables', 'iptables-nft', 'iptables-legacy']) {
    if (!(await succeeds(x, 'sh', ['-c', `command -v ${bin}-save`]))) continue;
    let script = '';
    try {
      script = removalScript(await x(`${bin}-save`, []));
    } catch {
      continue;
    } // e.g. legacy tables not loaded
    if (!script) continue;
    await x(`${bin}-restore`, ['--noflush'], script);
    done.push(`${bin}: ${script.split('\n').filter((l) => l.startsWith('-X ')).length} chains`);
  }
  // NetworkPolicy peer sets: destroyable only now that no rule names them
  const sets = (await succeeds(x, 'sh', ['-c', 'command -v ipset']))
    ? (await x('ipset', ['list', '-n']))
        .split('\n')
        .map((s) => s.trim())
        .filter((s) => s.startsWith(NETPOL_SET_PREFIX))
    : [];
  if (sets.length) {
    await x('ipset', ['restore'], sets.map((s) => `destroy ${s}\n`).join(''));
    done.push(`${sets.length} network policy ipsets`);
  }
  for (const table of [KUBE_PROXY_NFT_TABLE, NETPOL_NFT_TABLE]) {
    const [family, name] = table.split(' ');
    if (await succeeds(x, 'nft', ['list', 'table', family, name])) {
      await x('nft', ['delete', 'table', family, name]);
      done.push(`nftables table ${table}`);
    }
  }
  for (const link of [POD_BRIDGE, VXLAN_DEVICE]) {
    if (await succeeds(x, 'ip', ['link', 'show', link])) {
      await x('ip', ['link', 'del', link]);
      done.push(`link ${link}`);
    }
  }
  const routes = (await x('ip', ['-4', 'route', 'show', 'proto', RT_PROTO])).trim();
  if (routes) {
    await x('ip', ['-4', 'route', 'flush', 'proto', RT_PROTO]);
    done.push(`${routes.split('\n').length} pod routes`);
  }
  return done;
}

/** The whole teardown on this host; returns notes for the uninstall report. */
export async function removeAgentState(o: { criSocket: string; kubeletDir: string; x?: Exec }): Promise<string[]> {
  const x = o.x ?? hostExec;
  const notes: string[] = [];
  if (existsSync(o.criSocket)) {
    const n = await removeAllPods(o.criSocket).catch(() => -1);
    notes.push(n < 0 ? `containerd at ${o.criSocket} did not answer: its pods were left running` : `removed ${n} pods from containerd`);
  }
  const mounts = mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), o.kubeletDir);
  const stuck: string[] = [];
  for (const m of mounts) if (!(await succeeds(x, 'umount', [m])) && !(await succeeds(x, 'umount', ['-l', m]))) stuck.push(m);
  if (mounts.length) notes.push(`unmounted ${mounts.length - stuck.length} pod volumes`);
  if (stuck.length) notes.push(`could not unmount ${stuck.join(', ')}`);
  const removed = await removeKernelState(x);
  if (removed.length) notes.push(`removed ${removed.join(', ')}`);
  return notes;
}
