// The lab's wiring in the kernel: a bridge in the root namespace, one namespace per node joined to
// it by a veth pair, and an explicit FORWARD accept for the bridge (br_netfilter makes bridged
// frames traverse iptables, where a DROP policy would cut the nodes apart).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Lab, LabNode, PodRoute } from './topology.ts';

const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (cmd: string, ...args: string[]): boolean => {
  try {
    run(cmd, ...args);
    return true;
  } catch {
    return false;
  }
};
const inNs = (ns: string, ...args: string[]) => run('ip', '-n', ns, ...args);

const linkExists = (name: string) => tryRun('ip', 'link', 'show', name);
export const netnsExists = (ns: string) => existsSync(`/run/netns/${ns}`);

function forwardRule(lab: Lab): string[] {
  return ['FORWARD', '-i', lab.bridge, '-o', lab.bridge, '-m', 'comment', '--comment', `hawser lab ${lab.name}`, '-j', 'ACCEPT'];
}

export function createNetwork(lab: Lab): void {
  if (!linkExists(lab.bridge)) {
    run('ip', 'link', 'add', lab.bridge, 'type', 'bridge');
    run('ip', 'addr', 'add', `${lab.bridgeIP}/${lab.prefix}`, 'dev', lab.bridge);
  }
  run('ip', 'link', 'set', lab.bridge, 'up');
  if (!tryRun('iptables', '-C', ...forwardRule(lab))) run('iptables', '-I', ...forwardRule(lab));
  for (const n of lab.nodes) createNode(lab, n);
}

function createNode(lab: Lab, n: LabNode): void {
  if (!netnsExists(n.netns)) run('ip', 'netns', 'add', n.netns);
  if (!linkExists(n.hostVeth)) {
    run('ip', 'link', 'add', n.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns);
  }
  run('ip', 'link', 'set', n.hostVeth, 'master', lab.bridge, 'up');
  inNs(n.netns, 'link', 'set', 'lo', 'up');
  const addrs = inNs(n.netns, '-j', 'addr', 'show', 'dev', 'eth0');
  if (!addrs.includes(`"${n.ip}"`)) inNs(n.netns, 'addr', 'add', `${n.ip}/${lab.prefix}`, 'dev', 'eth0');
  inNs(n.netns, 'link', 'set', 'eth0', 'up');
  inNs(n.netns, 'route', 'replace', 'default', 'via', lab.bridgeIP);
  run('ip', 'netns', 'exec', n.netns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
}

/** Root-namespace routes to the nodes' podCIDRs over the lab bridge (replaced, so a rerun changes nothing). */
export function addPodRoutes(lab: Lab, routes: PodRoute[]): void {
  for (const r of routes) run('ip', 'route', 'replace', r.dst, 'via', r.via, 'dev', lab.bridge);
}

/** Every root-namespace route inside the lab's pod network, whatever state a failed `up` left. */
export function removePodRoutes(lab: Lab): void {
  tryRun('ip', 'route', 'flush', 'root', lab.clusterCIDR);
}

export function destroyNetwork(lab: Lab): void {
  removePodRoutes(lab);
  for (const n of lab.nodes) {
    if (linkExists(n.hostVeth)) tryRun('ip', 'link', 'del', n.hostVeth);
    if (netnsExists(n.netns)) tryRun('ip', 'netns', 'del', n.netns);
  }
  while (tryRun('iptables', '-D', ...forwardRule(lab))) {
    /* remove every copy */
  }
  if (linkExists(lab.bridge)) tryRun('ip', 'link', 'del', lab.bridge);
}

/** The host's IPv4 routes, to refuse a lab or pod network that would shadow one of them. */
export function hostRoutes(): { dst: string; dev: string }[] {
  const rows = JSON.parse(run('ip', '-j', '-4', 'route', 'show')) as { dst: string; dev: string }[];
  return rows.filter((r) => r.dst !== 'default');
}
