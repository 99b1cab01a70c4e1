// Upstream's EventCorrelator (client-go tools/record/events_cache.go), the one both event recorders
// use (the control plane's client/events.ts, the kubelet's and ingress controller's
// kubelet/pods/events.ts): an event like one already written (same source, object, fieldPath,
// type, reason and message) patches that one's count and lastTimestamp; the 10th different message
// for the same source, object, type and reason within 10 minutes becomes one event "(combined from
// similar events): <latest message>" counted from then on; then the recorder's filter (the control
// plane's spam filter) judges the event as it would be written. Caches are LRUs of 4096. Pure.

export interface EventIdentity {
  source: { component: string; host?: string };
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; fieldPath?: string };
  type: string;
  reason: string;
  message: string;
  reportingController?: string;
  reportingInstance?: string;
}

/** What to write: a new Event (count 1) or a patch of the one named, or nothing. */
export type Correlated = { skip: true } | { skip: false; create: boolean; name: string; message: string; count: number; firstTimestampMs: number };

export const COMBINED_PREFIX = '(combined from similar events): ';
const CACHE = 4096;
const AGGREGATE_MAX = 10;
const AGGREGATE_WINDOW_MS = 10 * 60_000;

/** A Map that forgets its least recently used key past `size`. */
class Lru<V> {
  private m = new Map<string, V>();
  constructor(private size: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.size) this.m.delete(this.m.keys().next().value!);
  }
}

const join = (parts: (string | undefined)[]) => parts.map((p) => p ?? '').join('\u0000');

export class EventCorrelator {
  private similar = new Lru<{ messages: Set<string>; lastMs: number }>(CACHE);
  private written = new Lru<{ name: string; count: number; firstTimestampMs: number }>(CACHE);

  /** `filter` false: the event is dropped (after it was counted, as upstream's spam filter runs last). */
  constructor(
    private filter: (e: EventIdentity) => boolean = () => true,
    private now: () => number = Date.now,
  ) {}

  /** `newName` names an event that is written for the first time. */
  correlate(e: EventIdentity, newName: () => string): Correlated {
    const nowMs = this.now();
    const o = e.involvedObject;
    const aggregateKey = join([
      e.source.component,
      e.source.host,
      o.kind,
      o.namespace,
      o.name,
      o.uid,
      o.apiVersion,
      e.type,
      e.reason,
      e.reportingController,
      e.reportingInstance,
    ]);
    let record = this.similar.get(aggregateKey);
    if (!record || nowMs - record.lastMs > AGGREGATE_WINDOW_MS) record = { messages: new Set(), lastMs: 0 };
    record.messages.add(e.message);
    record.lastMs = nowMs;
    this.similar.set(aggregateKey, record);
    let key = join([e.source.component, e.source.host, o.kind, o.namespace, o.name, o.fieldPath, o.uid, o.apiVersion, e.type, e.reason, e.message]);
    let message = e.message;
    if (record.messages.size >= AGGREGATE_MAX) {
      record.messages.delete(record.messages.values().next().value!);
      key = aggregateKey;
      message = COMBINED_PREFIX + e.message;
    }
    const last = this.written.get(key);
    const out = last
      ? { skip: false as const, create: false, name: last.name, message, count: last.count + 1, firstTimestampMs: last.firstTimestampMs }
      : { skip: false as const, create: true, name: newName(), message, count: 1, firstTimestampMs: nowMs };
    this.written.set(key, { name: out.name, count: out.count, firstTimestampMs: out.firstTimestampMs });
    return this.filter({ ...e, message }) ? out : { skip: true };
  }
}
