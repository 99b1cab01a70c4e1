// IPVS mode, the I/O half. Every sync renders the whole IPVS state (pure) and applies its
// difference from the last applied one: addresses on kube-ipvs0, ipset entries, then virtual and
// real servers in one `ipvsadm --restore` batch, then the mode's small iptables ruleset. This
// kernel has no IPVS, so this file runs for real only on the Vagrant VMs; the tests cover the
// pure parts exhaustively.
import type { Logger } from '../../api/log.ts';
import type { Exec } from '../../api/exec.ts';
import { ensureJumps, jumpDeletions, XTABLES_WAIT } from '../netfilter.ts';
import type { Backend } from '../proxier.ts';
import type { ChangeTracker } from '../tracker.ts';
import {
  IPVS_FILTER_CHAINS,
  IPVS_JUMPS,
  IPVS_NAT_CHAINS,
  addressBatch,
  emptyIpvsState,
  ipsetRestore,
  ipvsIptables,
  ipvsadmRestore,
  parseIpvsadmSave,
} from './plan.ts';
import { DUMMY, IPSETS, renderIpvs, type IpvsContext, type IpvsState } from './render.ts';

export interface IpvsOptions extends IpvsContext {
  clusterCIDR: string;
  masqueradeAll: boolean;
}

const SYSCTLS: Array<[string, string]> = [
  ['net/ipv4/vs/conntrack', '1'],
  ['net/ipv4/vs/conn_reuse_mode', '0'],
  ['net/ipv4/vs/expire_nodest_conn', '1'],
  ['net/ipv4/vs/expire_quiescent_template', '1'],
  ['net/ipv4/ip_forward', '1'],
];

export class IpvsBackend implements Backend {
  readonly mode = 'ipvs' as const;
  applied: IpvsState = emptyIpvsState();

  constructor(
    private readonly tracker: ChangeTracker,
    private readonly exec: Exec,
    private readonly o: IpvsOptions,
    private readonly log?: Logger,
  ) {}

  async sync(full: boolean): Promise<void> {
    const next = renderIpvs(this.tracker.all(), this.o);
    if (full) await this.readKernel();
    const addrs = addressBatch(this.applied.addresses, next.addresses);
    if (addrs) await this.exec('ip', ['-batch', '-'], addrs);
    await this.exec('ipset', ['restore', '-exist'], ipsetRestore(this.applied, next));
    const servers = ipvsadmRestore(this.applied, next);
    if (servers) await this.exec('ipvsadm', ['--restore'], servers);
    await this.exec('iptables-restore', ['--noflush', ...XTABLES_WAIT], ipvsIptables(next, this.o));
    if (full) await ensureJumps(this.exec, IPVS_JUMPS);
    this.applied = next;
  }

  /** A full sync starts from what the kernel really holds, so leftovers are removed. */
  private async readKernel(): Promise<void> {
    for (const [k, v] of SYSCTLS) await this.exec('sysctl', ['-qw', `${k.replace(/\//g, '.')}=${v}`]).catch(() => undefined);
    await this.exec('ip', ['link', 'add', DUMMY, 'type', 'dummy']).catch(() => undefined);
    await this.exec('ip', ['link', 'set', DUMMY, 'up']);
    const addrs = JSON.parse((await this.exec('ip', ['-j', 'address', 'show', 'dev', DUMMY])) || '[]') as Array<{
      addr_info?: Array<{ local: string; family: string }>;
    }>;
    const services = parseIpvsadmSave(await this.exec('ipvsadm', ['-Sn']));
    const ipsets = new Map<string, Set<string>>();
    for (const s of IPSETS) {
      const listed = await this.exec('ipset', ['list', s.name]).catch(() => '');
      const members = listed.split('Members:\n')[1] ?? '';
      ipsets.set(
        s.name,
        new Set(
          members
            .split('\n')
            .map((l) => l.split(' comment ')[0].trim())
            .filter(Boolean),
        ),
      );
    }
    this.applied = {
      addresses: new Set(addrs.flatMap((a) => (a.addr_info ?? []).filter((i) => i.family === 'inet').map((i) => i.local))),
      services,
      ipsets,
    };
  }

  async intact(): Promise<boolean> {
    try {
      await this.exec('iptables', [...XTABLES_WAIT, '-t', 'nat', '-S', 'KUBE-SERVICES']);
      await this.exec('ip', ['link', 'show', DUMMY]);
      return true;
    } catch {
      return false;
    }
  }

  async cleanup(): Promise<void> {
    const lines = await jumpDeletions(this.exec, IPVS_JUMPS);
    const chains: Record<string, string[]> = { nat: IPVS_NAT_CHAINS, filter: IPVS_FILTER_CHAINS };
    let text = '';
    for (const t of ['nat', 'filter']) {
      text += `*${t}\n${[...(lines.get(t) ?? []), ...chains[t].map((c) => `:${c} - [0:0]`), ...chains[t].map((c) => `-X ${c}`)].join('\n')}\nCOMMIT\n`;
    }
    await this.exec('iptables-restore', ['--noflush', ...XTABLES_WAIT], text).catch((err) => this.log?.warn({ err: String(err) }, 'ipvs iptables cleanup'));
    await this.exec('ipvsadm', ['--clear']).catch(() => undefined);
    for (const s of IPSETS) await this.exec('ipset', ['destroy', s.name]).catch(() => undefined);
    await this.exec('ip', ['link', 'del', DUMMY]).catch(() => undefined);
    this.applied = emptyIpvsState();
  }
}
