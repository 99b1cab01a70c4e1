// Node IPAM controller: every Node gets a free pod CIDR in spec.podCIDR/podCIDRs when it appears
// (never one already given out: existing Nodes are read before anything is allocated), and the
// CIDR returns to the pool when the Node is deleted.
import type { Logger } from '../../api/log.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import { Informer } from '../client/informer.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { recordEvent } from '../client/events.ts';
import { CidrAllocator } from './ipam.ts';

export class NodeIpamController {
  private readonly alloc: CidrAllocator;
  private readonly informer: Informer;
  private readonly owned = new Map<string, string>();
  private ready = false;
  private chain = Promise.resolve();

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    o: { clusterCIDR: string; nodeCIDRMaskSize: number; serviceCIDR?: string },
  ) {
    this.alloc = new CidrAllocator(o.clusterCIDR, o.nodeCIDRMaskSize, o.serviceCIDR);
    this.informer = new Informer(
      client,
      '/api/v1/nodes',
      {
        add: (n) => this.observe(n),
        update: (n) => this.observe(n),
        delete: (n) => {
          const c = this.owned.get(n.metadata.name!);
          if (c) this.alloc.release(c);
          this.owned.delete(n.metadata.name!);
        },
      },
      log,
    );
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.synced;
    this.ready = true;
    for (const n of this.informer.cache.values()) this.observe(n);
  }

  stop(): void {
    this.informer.stop();
  }

  private observe(n: Obj): void {
    const name = n.metadata.name!;
    const have: string | undefined = n.spec?.podCIDRs?.[0] ?? n.spec?.podCIDR;
    if (have) {
      if (this.owned.get(name) !== have) {
        const prev = this.owned.get(name);
        if (prev) this.alloc.release(prev);
        if (!this.alloc.occupy(have)) this.log.warn({ node: name, cidr: have }, 'node pod CIDR is outside the cluster CIDR or already in use');
        this.owned.set(name, have);
      }
      return;
    }
    if (!this.ready || this.owned.has(name) || n.metadata.deletionTimestamp) return;
    const cidr = this.alloc.allocate();
    if (!cidr) {
      this.log.error({ node: name }, 'no pod CIDR left in the cluster CIDR');
      void recordEvent(this.client, { ...n, kind: 'Node' }, 'Warning', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`, 'cidrAllocator');
      return;
    }
    this.owned.set(name, cidr);
    // one patch at a time keeps the log and the events in order
    this.chain = this.chain.then(async () => {
      try {
        await this.client.patch(`/api/v1/nodes/${name}`, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, 'merge');
        this.log.info({ node: name, cidr }, 'assigned pod CIDR');
      } catch (e) {
        this.log.warn({ err: e, node: name, cidr }, 'could not assign pod CIDR');
        this.owned.delete(name);
        this.alloc.release(cidr);
      }
    });
  }
}
