// Pod CIDR allocation for nodes: hands out /maskSize subnets of the cluster CIDR, each at most once,
// skipping subnets that overlap the service CIDR (pure, in memory; rebuilt from Nodes at start).
import { type CIDR, formatCIDR, nthSubnet, overlaps, parseCIDR, prefixBits, subnetCount, subnetIndex } from '../../api/ip.ts';

export class CidrAllocator {
  private readonly cluster: CIDR;
  private readonly used = new Set<number>();
  private readonly total: number;
  private next = 0;

  constructor(
    clusterCIDR: string,
    readonly maskSize: number,
    serviceCIDR?: string,
  ) {
    const c = parseCIDR(clusterCIDR);
    if (!c) throw new Error(`invalid cluster CIDR ${clusterCIDR}`);
    if (maskSize < c.prefix || maskSize > prefixBits(c.ip.v)) throw new Error(`node CIDR mask size /${maskSize} does not fit in ${clusterCIDR}`);
    this.cluster = c;
    this.total = subnetCount(c, maskSize);
    const svc = serviceCIDR ? parseCIDR(serviceCIDR) : null;
    if (svc && overlaps(c, svc)) {
      for (let i = 0; i < this.total; i++) if (overlaps(nthSubnet(c, maskSize, i), svc)) this.used.add(i);
    }
  }

  /** Marks an existing node's CIDR as taken; false if it is not one of ours or already taken. */
  occupy(cidr: string): boolean {
    const sub = parseCIDR(cidr);
    if (!sub) return false;
    const i = subnetIndex(this.cluster, this.maskSize, sub);
    if (i === undefined || this.used.has(i)) return false;
    this.used.add(i);
    return true;
  }

  allocate(): string | undefined {
    for (let n = 0; n < this.total; n++) {
      const i = (this.next + n) % this.total;
      if (this.used.has(i)) continue;
      this.used.add(i);
      this.next = (i + 1) % this.total;
      return formatCIDR(nthSubnet(this.cluster, this.maskSize, i));
    }
    return undefined;
  }

  release(cidr: string): void {
    const sub = parseCIDR(cidr);
    if (!sub) return;
    const i = subnetIndex(this.cluster, this.maskSize, sub);
    if (i !== undefined) this.used.delete(i);
  }

  get free(): number {
    return this.total - this.used.size;
  }
}
