// nftables mode, the I/O half: one `nft -f -` transaction per sync, built by the pure planner from
// the fragments of the changed Services, plus a deferred delete of chains and sets gone unused.
import type { Logger } from '../../api/log.ts';
import type { Exec } from '../../api/exec.ts';
import type { Backend } from '../proxier.ts';
import type { ChangeTracker } from '../tracker.ts';
import { ElementBook, deleteTransaction, fullTransaction, partialTransaction } from './plan.ts';
import { TABLE, renderNftService, type NftContext, type NftFragment } from './render.ts';

export interface NftablesOptions extends NftContext {
  nodePortIPs: string[];
}

const STALE_DELAY_MS = 1000;

export class NftablesBackend implements Backend {
  readonly mode = 'nftables' as const;
  applied = new Map<string, NftFragment>();
  private book = new ElementBook();
  private stale = new Map<string, { kind: 'chain' | 'set'; since: number }>();
  /** transactions of the last sync, for tests and the benchmark */
  lastTransactions: string[] = [];

  constructor(
    private readonly tracker: ChangeTracker,
    private readonly exec: Exec,
    private readonly o: NftablesOptions,
    private readonly log?: Logger,
  ) {}

  private nft(text: string): Promise<string> {
    return this.exec('nft', ['-f', '-'], text);
  }

  async sync(full: boolean, changed?: Set<string>): Promise<void> {
    this.lastTransactions = [];
    if (full) {
      const fragments = new Map<string, NftFragment>();
      for (const svc of this.tracker.serviceNames()) fragments.set(svc, renderNftService(this.tracker.service(svc), this.o));
      this.applied = new Map();
      const text = fullTransaction(fragments, this.o, this.book);
      this.lastTransactions.push(text);
      await this.nft(text);
      this.applied = fragments;
      this.stale.clear();
      return;
    }
    await this.deleteStale();
    const names = changed ?? new Set([...this.tracker.serviceNames(), ...this.applied.keys()]);
    const next = new Map<string, NftFragment | undefined>();
    for (const svc of names) {
      const ports = this.tracker.service(svc);
      next.set(svc, ports.length ? renderNftService(ports, this.o) : undefined);
    }
    const r = partialTransaction(this.applied, next, this.book);
    if (r.text) {
      this.lastTransactions.push(r.text);
      await this.nft(r.text);
    }
    for (const [svc, f] of next)
      if (f) this.applied.set(svc, f);
      else this.applied.delete(svc);
    const now = Date.now();
    for (const n of r.revived) this.stale.delete(n);
    for (const c of r.staleChains) this.stale.set(c, { kind: 'chain', since: now });
    for (const s of r.staleSets) this.stale.set(s, { kind: 'set', since: now });
  }

  private async deleteStale(): Promise<void> {
    const due = [...this.stale].filter(([, v]) => Date.now() - v.since >= STALE_DELAY_MS);
    if (!due.length) return;
    for (const [n] of due) this.stale.delete(n);
    const text = deleteTransaction(
      due.filter(([, v]) => v.kind === 'chain').map(([n]) => n),
      due.filter(([, v]) => v.kind === 'set').map(([n]) => n),
    );
    this.lastTransactions.push(text);
    try {
      await this.nft(text);
    } catch (err) {
      this.log?.warn({ err: String(err) }, 'could not delete stale nftables chains; the next full sync will');
    }
  }

  /** Deletion is due this long after a chain or set fell out of use (tests wait for it). */
  staleCount(): number {
    return this.stale.size;
  }

  async intact(): Promise<boolean> {
    try {
      await this.exec('nft', ['list', 'chain', ...TABLE.split(' '), 'services']);
      return true;
    } catch {
      return false;
    }
  }

  async cleanup(): Promise<void> {
    try {
      await this.nft(`add table ${TABLE}\ndelete table ${TABLE}\n`);
    } finally {
      this.applied = new Map();
      this.book.clear();
      this.stale.clear();
    }
  }
}
