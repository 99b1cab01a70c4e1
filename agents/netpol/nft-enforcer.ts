// NetworkPolicy in nftables mode, the I/O half: each sync renders the plan (nft-plan.ts) and sends
// one `nft -f -` transaction with only what changed (nft-transaction.ts), then deletes chains and
// sets the change left unused. The first sync, a periodic check that finds the table gone, and
// the sync after a failure replace the whole table at once. The first sync also removes what
// iptables mode left (a node switched from it), so exactly one enforcement is in force.
import type { Exec } from '../api/exec.ts';
import { nftPlan, NFT_TABLE, type NftPolicyPlan } from './nft-plan.ts';
import { deleteTransaction, fullTransaction, partialTransaction } from './nft-transaction.ts';
import type { NpInput } from './policy-plan.ts';

export interface SyncOutcome {
  wrote: boolean;
  summary: Record<string, number>;
}

export interface Enforcer {
  /** periodic: the runner's resync, when the kernel is checked for what others removed */
  sync(input: NpInput, periodic: boolean): Promise<SyncOutcome>;
}

export class NftEnforcer implements Enforcer {
  private applied: NftPolicyPlan | undefined;
  private otherModeCleared = false;
  /** transactions of the last sync, for tests */
  lastTransactions: string[] = [];

  constructor(
    private readonly x: Exec,
    private readonly clearOtherMode: (x: Exec) => Promise<void>,
  ) {}

  private async nft(text: string): Promise<void> {
    this.lastTransactions.push(text);
    await this.x('nft', ['-f', '-'], text);
  }

  private async intact(): Promise<boolean> {
    return this.x('nft', ['list', 'chain', ...NFT_TABLE.split(' '), 'dispatch']).then(
      () => true,
      () => false,
    );
  }

  async sync(input: NpInput, periodic: boolean): Promise<SyncOutcome> {
    this.lastTransactions = [];
    if (periodic && this.applied && !(await this.intact())) this.applied = undefined;
    const next = nftPlan(input);
    const before = this.applied;
    this.applied = undefined; // until the kernel holds all of it
    let wrote = false;
    if (!before) {
      await this.nft(fullTransaction(next));
      wrote = true;
    } else {
      const p = partialTransaction(before, next);
      if (p.text) {
        await this.nft(p.text);
        wrote = true;
      }
      const del = deleteTransaction(p.staleChains, p.staleSets);
      if (del) await this.nft(del);
    }
    if (!this.otherModeCleared) {
      await this.clearOtherMode(this.x);
      this.otherModeCleared = true;
    }
    this.applied = next;
    return { wrote, summary: { chains: next.chains.size, sets: next.sets.size } };
  }
}
