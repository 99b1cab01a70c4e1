// `kube-proxy --cleanup`, as upstream's cleanupAndExit: remove what every proxy mode leaves in the
// kernel (iptables chains and jumps through both iptables-nft and iptables-legacy, the nftables
// table, IPVS services, ipsets and the dummy interface) and exit, without reaching the API server.
// A mode whose tools are missing has nothing to clean; the others still run. Returns the failures.
import type { Logger } from '../api/log.ts';
import type { Exec } from '../api/exec.ts';
import { type KubeProxyOptions, makeBackend } from './index.ts';
import { ChangeTracker } from './tracker.ts';

const MODES: { mode: KubeProxyOptions['mode']; iptablesCommand?: 'iptables-nft' | 'iptables-legacy' }[] = [
  { mode: 'iptables', iptablesCommand: 'iptables-nft' },
  { mode: 'iptables', iptablesCommand: 'iptables-legacy' },
  { mode: 'ipvs' },
  { mode: 'nftables' },
];

/** Which commands a mode's cleanup needs; a mode whose first tool is absent is skipped. */
const TOOL: Record<string, string> = { 'iptables-nft': 'iptables-nft-save', 'iptables-legacy': 'iptables-legacy-save', ipvs: 'iptables-save', nftables: 'nft' };

export async function cleanupLeftovers(exec: Exec, log: Logger): Promise<string[]> {
  const failures: string[] = [];
  for (const m of MODES) {
    const name = m.iptablesCommand ?? m.mode;
    const present = await exec(TOOL[name], ['--version']).then(
      () => true,
      () => false,
    );
    if (!present) continue;
    const backend = makeBackend({
      mode: m.mode,
      tracker: new ChangeTracker(''),
      exec,
      clusterCIDR: '',
      masqueradeAll: false,
      nodePortIPs: [],
      iptablesCommand: m.iptablesCommand,
      log,
    });
    try {
      await backend.cleanup();
      log.info({ mode: name }, 'kube-proxy rules removed');
    } catch (e) {
      failures.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return failures;
}
