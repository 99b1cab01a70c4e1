// The machine lab's bridge on the host, and the FORWARD accept it needs (br_netfilter sends
// bridged frames through iptables, where a DROP policy would cut the machines apart). nspawn's
// --network-bridge makes each machine's veth and removes it when the machine stops.
import { execFileSync } from 'node:child_process';
import type { MachineLab } from './topology.ts';

const run = (...args: string[]): string => execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tryRun = (...args: string[]): boolean => {
  try {
    run(...args);
    return true;
  } catch {
    return false;
  }
};

const forwardRule = (lab: MachineLab) => ['FORWARD', '-i', lab.bridge, '-o', lab.bridge, '-m', 'comment', '--comment', 'hawser machine lab', '-j', 'ACCEPT'];
export const bridgeExists = (lab: MachineLab) => tryRun('ip', 'link', 'show', lab.bridge);

export function createMachineNetwork(lab: MachineLab): void {
  if (!bridgeExists(lab)) {
    run('ip', 'link', 'add', lab.bridge, 'type', 'bridge');
    run('ip', 'addr', 'add', `${lab.bridgeIP}/${lab.prefixLen}`, 'dev', lab.bridge);
  }
  run('ip', 'link', 'set', lab.bridge, 'up');
  if (!tryRun('iptables', '-C', ...forwardRule(lab))) run('iptables', '-I', ...forwardRule(lab));
}

/** Links still enslaved to the bridge (a machine's veth outliving it), then the rule and the bridge. */
export function destroyMachineNetwork(lab: MachineLab): void {
  if (bridgeExists(lab)) {
    const links = JSON.parse(run('ip', '-j', 'link', 'show', 'master', lab.bridge)) as { ifname: string }[];
    for (const l of links) tryRun('ip', 'link', 'del', l.ifname);
  }
  for (let i = 0; i < 10 && tryRun('iptables', '-D', ...forwardRule(lab)); i++) {
    /* every copy */
  }
  if (bridgeExists(lab)) tryRun('ip', 'link', 'del', lab.bridge);
}
