// iptables mode, the I/O half: render (pure), plan the restore inputs (pure), feed them to
// iptables-restore --noflush, and remember what the kernel now holds so the next partial sync can
// diff against it without reading the kernel back (iptables-save of a 5,000-Service table costs
// seconds; it is read only once, at the first sync, to find chains a previous run left).
import type { Logger } from '../../api/log.ts';
import type { Exec } from '../../api/exec.ts';
import { isIptablesServiceChain } from '../names.ts';
import type { Backend } from '../proxier.ts';
import type { ChangeTracker } from '../tracker.ts';
import {
  MAX_CHAINS_PER_RESTORE,
  RESTORE_PARALLELISM,
  RESYNC_CHAINS_PER_RESTORE,
  chainsRestore,
  finalRestores,
  mergeRestores,
  partialSync,
  preludeRestore,
  ruleCounts,
} from './plan.ts';
import { RenderCache } from './cache.ts';
import { RestorePool } from './pool.ts';
import { LARGE_CLUSTER_ENDPOINTS, type IptContext, type IptFragment } from './render.ts';
import { CANARY, JUMPS, OWNED_CHAINS, topTails } from './statics.ts';
import { hasJump, jumpDeletions, jumpRestore, presentJumps, restoreText, XTABLES_WAIT, type JumpRule } from '../netfilter.ts';

/** Where the last sync's time went (wall ms), for the benchmark and debug logs. */
export interface SyncTimings {
  full: boolean;
  /** reading the kernel before writing (first sync: iptables-save; later full syncs: iptables -S) */
  readMs: number;
  /** rendering Services (a full sync overlaps it with the restores) */
  renderMs: number;
  /** diffing against the applied state into restore inputs */
  planMs: number;
  /** each iptables-restore run: input size and wall time from spawn to exit */
  restores: Array<{ bytes: number; ms: number }>;
  totalMs: number;
}

export interface IptablesOptions extends IptContext {
  nodePortIPs: string[];
  /** 'iptables' (default) or 'iptables-legacy' */
  command?: string;
}

export class IptablesBackend implements Backend {
  readonly mode = 'iptables' as const;
  applied = new Map<string, IptFragment>();
  private first = true;
  /** renders of unchanged Services are reused: periodic syncs re-derive every Service */
  private readonly cache = new RenderCache();
  lastTimings?: SyncTimings;
  /** the sync in progress, filled as it goes */
  private timings?: SyncTimings;
  /** restore inputs of the last sync, for tests and the benchmark */
  lastRestores: string[] = [];
  onRules?: (counts: { nat: number; filter: number }) => void;

  constructor(
    private readonly tracker: ChangeTracker,
    private readonly exec: Exec,
    private readonly o: IptablesOptions,
    private readonly log?: Logger,
  ) {}

  private get cmd(): string {
    return this.o.command ?? 'iptables';
  }
  private get legacy(): boolean {
    return this.cmd.includes('legacy');
  }

  /**
   * Chains per restore input. iptables-nft 1.8.9 slows down quadratically with the chains of one
   * --noflush input, so its big writes are cut; iptables-legacy reads and rewrites the whole table
   * on every input (~1 s at 5,000 Services even for an empty one), so it gets one input.
   */
  private get maxChains(): number {
    return this.legacy ? Infinity : MAX_CHAINS_PER_RESTORE;
  }

  /**
   * Restore inputs in flight at once. iptables-nft parses one input (user space, one core) while
   * the kernel commits another; a commit that finds the ruleset changed since its cache was read
   * is redone by iptables-restore itself. iptables-legacy serializes on the xtables lock anyway.
   */
  private get parallel(): number {
    return this.legacy ? 1 : RESTORE_PARALLELISM;
  }

  private async restore(text: string): Promise<string> {
    const t0 = performance.now();
    const out = await this.exec(`${this.cmd}-restore`, ['--noflush', ...XTABLES_WAIT], text);
    this.timings?.restores.push({ bytes: text.length, ms: performance.now() - t0 });
    return out;
  }

  private largeCluster = false;

  async sync(full: boolean, changed?: Set<string>): Promise<void> {
    const t0 = performance.now();
    const tm: SyncTimings = { full, readMs: 0, renderMs: 0, planMs: 0, restores: [], totalMs: 0 };
    this.timings = tm;
    const tails = topTails({ nodePortIPs: this.o.nodePortIPs });
    let endpoints = 0;
    for (const p of this.tracker.all()) endpoints += p.endpoints.length;
    const large = endpoints > LARGE_CLUSTER_ENDPOINTS;
    // every endpoint rule changes its text when the mode flips
    if (large !== this.largeCluster) {
      this.largeCluster = large;
      full = true;
      tm.full = true;
      this.cache.clear();
    }
    const ctx = { ...this.o, largeCluster: large };
    if (full) {
      // What the kernel holds, read while the Service chains load: our chains a previous run left
      // and the jumps from the built-in chains. The first sync reads both from one iptables-save
      // per table; later ones know their chains and list only the built-in chains.
      const read = timed(this.first ? this.readTables() : this.readJumps(), (ms) => {
        tm.readMs = ms;
      });
      read.catch(() => {
        /* awaited below; a failure must not count as unhandled meanwhile */
      });
      // a resync rewrites chains the kernel walks on every commit: fewer, bigger inputs
      const max = this.applied.size && !this.legacy ? RESYNC_CHAINS_PER_RESTORE : this.maxChains;
      this.applied = new Map(); // the kernel stops matching our record with the first input
      this.lastRestores = [];
      // iptables-legacy replaces a whole table per input: it gets one input, written at the end
      const held = this.legacy ? [] : undefined;
      const fragments = await this.writeChains(ctx, max, held);
      const wanted = new Set([...fragments.values()].flatMap((f) => [...f.chains.keys()]));
      const { chains, jumps } = await read;
      const tp = performance.now();
      // the missing jumps go in with the shared chains, so the kernel validates the whole table once
      const have = new Set(jumps);
      const [shared, ...stale] = finalRestores(
        fragments.values(),
        tails,
        chains.filter((c) => !wanted.has(c)),
        this.maxChains,
      );
      tm.planMs += performance.now() - tp;
      const finals = [shared + jumpRestore(JUMPS.filter((j) => !have.has(j))), ...stale];
      if (held) {
        this.lastRestores = [mergeRestores([...held, ...finals])];
        await this.restore(this.lastRestores[0]);
      } else {
        for (const text of finals) {
          this.lastRestores.push(text);
          await this.restore(text);
        }
      }
      this.applied = fragments;
      this.first = false;
    } else {
      const names = changed ?? new Set([...this.tracker.serviceNames(), ...this.applied.keys()]);
      const next = new Map<string, IptFragment | undefined>();
      const tr = performance.now();
      for (const svc of names) {
        const ports = this.tracker.service(svc);
        next.set(svc, ports.length ? this.cache.render(svc, ports, ctx) : undefined);
      }
      const tp = performance.now();
      tm.renderMs = tp - tr;
      this.lastRestores = partialSync({ applied: this.applied, changed: next, tails, maxChains: this.maxChains });
      tm.planMs = performance.now() - tp;
      // chunks of a big change in parallel; the last input (shared chains, deletions) after them
      const pool = new RestorePool((text) => this.restore(text), this.parallel);
      for (const text of this.lastRestores.slice(0, -1)) await pool.run(text);
      await pool.drain();
      if (this.lastRestores.length) await this.restore(this.lastRestores[this.lastRestores.length - 1]);
      for (const [svc, f] of next)
        if (f) this.applied.set(svc, f);
        else this.applied.delete(svc);
    }
    this.cache.retain(this.applied);
    this.onRules?.(ruleCounts(this.applied.values()));
    tm.totalMs = performance.now() - t0;
    this.lastTimings = tm;
  }

  /** First sync: one iptables-save per table gives our leftover chains and the present jumps. */
  private async readTables(): Promise<{ chains: string[]; jumps: JumpRule[] }> {
    const [nat, filter] = await Promise.all(['nat', 'filter'].map((t) => this.exec(`${this.cmd}-save`, ['-t', t])));
    const chains = nat
      .split('\n')
      .filter((l) => l.startsWith(':'))
      .map((l) => l.slice(1).split(' ')[0])
      .filter(isIptablesServiceChain);
    const listing: Record<string, string> = { nat, filter };
    return { chains, jumps: JUMPS.filter((j) => hasJump(listing[j.table] ?? '', j)) };
  }

  /** Later full syncs: the chains we wrote, and the jumps listed from the built-in chains. */
  private async readJumps(): Promise<{ chains: string[]; jumps: JumpRule[] }> {
    const chains = [...this.applied.values()].flatMap((f) => [...f.chains.keys()]);
    return { chains, jumps: await presentJumps(this.exec, JUMPS, this.cmd) };
  }

  /**
   * Renders Services and writes their chains in chunks, rendering the next chunk while
   * iptables-restore loads the previous ones. The first chunk carries the static chains every
   * Service chain jumps to, so it lands alone; the rest run `parallel` at a time. With `hold`,
   * the inputs are collected there instead of written.
   */
  private async writeChains(ctx: IptContext, maxChains: number, hold?: string[]): Promise<Map<string, IptFragment>> {
    const fragments = new Map<string, IptFragment>();
    const pool = new RestorePool((text) => this.restore(text), this.parallel);
    let prelude = preludeRestore(); // rides with the first chunk
    let batch: Array<Array<[string, string[]]>> = [];
    let n = 0;
    const flush = async () => {
      const text = prelude + chainsRestore(batch);
      const first = prelude !== '';
      prelude = '';
      batch = [];
      n = 0;
      if (hold) {
        hold.push(text);
        return;
      }
      this.lastRestores.push(text);
      await pool.run(text);
      if (first) await pool.drain();
    };
    const tm = this.timings;
    for (const svc of this.tracker.serviceNames()) {
      const tr = performance.now();
      const f = this.cache.render(svc, this.tracker.service(svc), ctx);
      if (tm) tm.renderMs += performance.now() - tr;
      fragments.set(svc, f);
      if (n && n + f.chains.size > maxChains) await flush();
      batch.push([...f.chains]);
      n += f.chains.size;
    }
    if (n || prelude) await flush();
    await pool.drain();
    return fragments;
  }

  async intact(): Promise<boolean> {
    for (const table of ['mangle', 'nat', 'filter']) {
      try {
        await this.exec(this.cmd, [...XTABLES_WAIT, '-t', table, '-S', CANARY]);
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Removes every jump, chain and rule this proxy owns (upstream's --cleanup). */
  async cleanup(): Promise<void> {
    const lines = await jumpDeletions(this.exec, JUMPS, this.cmd);
    for (const table of ['nat', 'filter', 'mangle']) {
      const saved = await this.exec(`${this.cmd}-save`, ['-t', table]);
      const ours = saved
        .split('\n')
        .filter((l) => l.startsWith(':'))
        .map((l) => l.slice(1).split(' ')[0])
        .filter((c) => OWNED_CHAINS[table].includes(c) || (table === 'nat' && isIptablesServiceChain(c)));
      const t = lines.get(table) ?? [];
      lines.set(table, [...t, ...ours.map((c) => `:${c} - [0:0]`), ...ours.map((c) => `-X ${c}`)]);
    }
    const text = restoreText(lines);
    if (text) await this.restore(text);
    this.applied = new Map();
    this.cache.clear();
    this.first = true;
    this.log?.info('iptables rules removed');
  }
}

/** Awaits p and reports its wall time. */
async function timed<T>(p: Promise<T>, done: (ms: number) => void): Promise<T> {
  const t0 = performance.now();
  try {
    return await p;
  } finally {
    done(performance.now() - t0);
  }
}
