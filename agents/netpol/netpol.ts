// NetworkPolicy enforcement on this node (started by podnet): follows pods, namespaces and
// NetworkPolicies through informers and enforces them the way kube-proxy runs: in nftables mode
// with a table of its own (nft-enforcer.ts), else with iptables and ipsets: plans the chains and
// ipsets (plan.ts) and applies only what changed (restore.ts) with `ipset restore` and
// `iptables-restore --noflush`, then keeps FORWARD and INPUT jumping to HAWSER-NETPOL. After a
// start or a failed apply it reads our chain and set names back from the kernel and rewrites
// everything once, removing what no policy wants any more. Each mode's first sync removes what
// the other left, so a node switched between modes is enforced once.
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { ApiClient } from '../api/client.ts';
import { Informer } from '../api/informer.ts';
import type { Logger } from '../api/log.ts';
import { core, resourcePath } from '../api/paths.ts';
import { SyncRunner } from '../api/sync-runner.ts';
import type { Exec } from '../api/exec.ts';
import type { ProxyMode } from '../kube-proxy/modes.ts';
import { npNamespace, npPod, npPolicy, podEventMatters, type NetworkPolicyObject, type NpPod } from './model.ts';
import { NFT_TABLE } from './nft-plan.ts';
import { NftEnforcer, type Enforcer, type SyncOutcome } from './nft-enforcer.ts';
import { removeTableTransaction } from './nft-transaction.ts';
import { CHAIN_PREFIX, plan, SET_PREFIX, TOP_CHAIN } from './plan.ts';
import type { NpInput } from './policy-plan.ts';
import { type Applied, steps } from './restore.ts';

export const HOOKS = ['FORWARD', 'INPUT'] as const;
export const HOOK_COMMENT = 'hawser network policy';
const hookRule = (chain: string) => [chain, '-m', 'comment', '--comment', HOOK_COMMENT, '-j', TOP_CHAIN];

/** Our chain and set names as the kernel has them now. */
export async function kernelNames(x: Exec): Promise<{ chains: string[]; sets: string[] }> {
  const save = await x('iptables-save', ['-t', 'filter']);
  const chains = [...save.matchAll(/^:(\S+)/gm)].map((m) => m[1]).filter((c) => c === TOP_CHAIN || c.startsWith(CHAIN_PREFIX));
  const sets = (await x('ipset', ['list', '-n']))
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.startsWith(SET_PREFIX));
  return { chains, sets };
}

/**
 * Keeps each hook's jump to HAWSER-NETPOL first, as kube-router does: kube-proxy inserts its own
 * jumps at the top too, and KUBE-FORWARD accepts marked packets before a later rule could refuse them.
 * Both hooks are read from one listing of the filter table: while idle, what a check costs is the
 * process started (fork, exec, iptables' own start), not the few lines it prints, so one run, not two.
 */
export async function ensureHooks(x: Exec): Promise<void> {
  const rules = (await x('iptables', ['-S'])).split('\n');
  for (const hook of HOOKS) {
    const rule = hookRule(hook);
    const first = rules.find((l) => l.startsWith(`-A ${hook} `));
    if (first === `-A ${hook} -m comment --comment "${HOOK_COMMENT}" -j ${TOP_CHAIN}`) continue;
    try {
      await x('iptables', ['-D', ...rule]);
    } catch {
      /* not there yet */
    }
    await x('iptables', ['-I', hook, '1', ...rule.slice(1)]);
  }
}

/**
 * Checking the hooks costs one `iptables -S` run. They are checked after every change we applied,
 * and otherwise at most this often (the runner's 30 s resync included), not on every pod event.
 */
export const HOOK_RECHECK_MS = 10_000;
export const hooksDue = (appliedSomething: boolean, lastCheck: number, now: number) => appliedSomething || now - lastCheck >= HOOK_RECHECK_MS;

/** Removes iptables mode's hooks, chains and sets (a node switched to nftables mode). */
export async function removeIptablesPolicy(x: Exec): Promise<void> {
  const { chains, sets } = await kernelNames(x);
  if (!chains.length && !sets.length) return;
  for (const hook of HOOKS) {
    for (let k = 0; k < 3; k++) {
      try {
        await x('iptables', ['-D', ...hookRule(hook)]);
      } catch {
        break;
      }
    }
  }
  if (chains.length)
    await x(
      'iptables-restore',
      ['--noflush'],
      `*filter\n${chains.map((c) => `:${c} - [0:0]`).join('\n')}\n${chains.map((c) => `-X ${c}`).join('\n')}\nCOMMIT\n`,
    );
  if (sets.length) await x('ipset', ['restore'], sets.map((n) => `destroy ${n}\n`).join(''));
}

/** Removes nftables mode's table (a node switched to iptables mode); a host without nft has none. */
export async function removeNftPolicy(x: Exec): Promise<void> {
  const present = await x('nft', ['list', 'table', ...NFT_TABLE.split(' ')]).then(
    () => true,
    () => false,
  );
  if (present) await x('nft', ['-f', '-'], removeTableTransaction());
}

/** iptables mode: ipsets and chains through restore inputs. */
function iptablesEnforcer(x: Exec): Enforcer {
  let applied: Applied | undefined;
  let hooksChecked = -Infinity;
  let otherModeCleared = false;
  return {
    async sync(input: NpInput): Promise<SyncOutcome> {
      applied ??= await kernelNames(x);
      const next = plan(input);
      const s = steps(applied, next);
      applied = undefined; // until the kernel holds all of it
      if (s.sets) await x('ipset', ['restore', '-exist'], s.sets);
      if (s.rules) await x('iptables-restore', ['--noflush'], s.rules);
      if (hooksDue(!!(s.sets || s.rules || s.dropChains || s.dropSets), hooksChecked, performance.now())) {
        await ensureHooks(x);
        hooksChecked = performance.now();
      }
      if (s.dropChains) await x('iptables-restore', ['--noflush'], s.dropChains);
      if (s.dropSets) await x('ipset', ['restore'], s.dropSets);
      if (!otherModeCleared) {
        await removeNftPolicy(x);
        otherModeCleared = true;
      }
      applied = { plan: next };
      return { wrote: !!(s.sets || s.rules || s.dropChains), summary: { chains: next.chains.size, sets: next.sets.size } };
    },
  };
}

export interface NetpolOptions {
  nodeName: string;
  api: ApiClient;
  log: Logger;
  x: Exec;
  /** kube-proxy's mode on this node: nftables enforces with nftables, the others with iptables */
  mode?: ProxyMode;
}

/** Starts at once; the first sync runs when all three informers have listed (never, if forbidden: logged). */
export function startNetpol(o: NetpolOptions): { stop(): void } {
  const pods = new Informer<V1Pod>(o.api, core('pods'), {}, o.log);
  const namespaces = new Informer<V1Namespace>(o.api, core('namespaces'), {}, o.log);
  const policies = new Informer<NetworkPolicyObject>(o.api, resourcePath({ group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies' }), {}, o.log);
  const enforcer = o.mode === 'nftables' ? new NftEnforcer(o.x, removeIptablesPolicy) : iptablesEnforcer(o.x);
  const runner = new SyncRunner(
    async (reason) => {
      const started = performance.now();
      try {
        const r = await enforcer.sync(
          {
            node: o.nodeName,
            policies: policies.list().map(npPolicy),
            pods: pods
              .list()
              .map(npPod)
              .filter((p): p is NpPod => !!p),
            namespaces: namespaces.list().map(npNamespace),
          },
          reason === 'periodic',
        );
        if (r.wrote)
          o.log.info(
            { ...r.summary, mode: o.mode === 'nftables' ? 'nftables' : 'iptables', ms: Math.round(performance.now() - started) },
            'network policy applied',
          );
      } catch (err) {
        o.log.error({ err: String(err) }, 'network policy sync failed; retrying');
        setTimeout(() => runner.run(), 2000);
      }
    },
    0,
    30_000,
  );
  const changed = () => {
    setImmediate(() => runner.run());
  };
  // pods change often (every status write) and mostly in ways the plan does not read
  const podChanged = (p: V1Pod, old?: V1Pod) => {
    if (podEventMatters(p, old)) changed();
  };
  pods.on({ add: (p) => podChanged(p), update: podChanged, delete: (p) => podChanged(p) }).start();
  for (const inf of [namespaces, policies]) inf.on({ add: changed, update: changed, delete: changed }).start();
  let stopped = false;
  void Promise.all([pods.waitForSync(), namespaces.waitForSync(), policies.waitForSync()]).then(() => {
    if (stopped) return;
    runner.start();
    runner.run();
    o.log.info({ node: o.nodeName }, 'network policy enforcement started');
  });
  return {
    stop() {
      stopped = true;
      runner.stop();
      pods.stop();
      namespaces.stop();
      policies.stop();
    },
  };
}
