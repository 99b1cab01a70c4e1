// Upstream's EventSourceObjectSpamFilter: each (source, involved object) may post a burst of 25
// events, then one every 5 minutes; the buckets live in an LRU of 4096. An owner creating pods
// without end (replicas 2147483647) thus writes 25 SuccessfulCreate events, not one per pod.
import { TokenBucket } from './token-bucket.ts';

const BURST = 25;
const QPS = 1 / 300;
const CACHE = 4096;

export class EventSpamFilter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number = Date.now) {}

  /** May an event from `source` about the object with this identity be written now? */
  allow(source: string, object: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string }): boolean {
    const key = [source, object.kind, object.apiVersion, object.namespace, object.name, object.uid].join('\u0000');
    let b = this.buckets.get(key);
    if (b) this.buckets.delete(key);
    else b = new TokenBucket(QPS, BURST, this.now);
    this.buckets.set(key, b); // most recently used last
    if (this.buckets.size > CACHE) this.buckets.delete(this.buckets.keys().next().value!);
    return b.tryTake();
  }
}
