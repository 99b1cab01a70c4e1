// core/v1 Events from the kubelet, which `kubectl describe pod` lists: source kubelet/<node>, the
// container named in involvedObject.fieldPath, correlated as upstream's recorder does
// (agents/api/event-correlator.ts: repeats of the same event fold into one object whose count and
// lastTimestamp grow, the 10th similar one within 10 minutes starts a combined one), then rate
// limited per object as upstream's spam filter does (agents/api/event-spam.ts: 25, then one every
// 5 minutes; a container crash-looping for hours writes no more). Sending is asynchronous and best
// effort, with a bounded backlog: events must never slow a pod down.
import { randomBytes } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ApiClient } from '../../api/client.ts';
import type { Logger } from '../../api/log.ts';
import { core } from '../../api/paths.ts';
import { EventCorrelator } from '../../api/event-correlator.ts';
import { EventSpamFilter } from '../../api/event-spam.ts';
import { metaTime } from '../../api/wire.ts';

export type EventType = 'Normal' | 'Warning';
export interface EventRef {
  kind: string;
  apiVersion: string;
  name: string;
  namespace?: string;
  uid?: string;
  fieldPath?: string;
}
type Ref = EventRef;

const MAX_BACKLOG = 1000;
const SENDERS = 4;

/** spec.containers{name}, spec.initContainers{name} or spec.ephemeralContainers{name}, as upstream's GenerateContainerRef. */
export function containerFieldPath(pod: V1Pod, c: V1Container | string): string {
  const name = typeof c === 'string' ? c : c.name;
  const init = (pod.spec?.initContainers ?? []).some((x) => x.name === name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).some((x) => x.name === name);
  return `spec.${init ? 'initContainers' : ephemeral ? 'ephemeralContainers' : 'containers'}{${name}}`;
}

export class EventRecorder {
  private spam = new EventSpamFilter();
  private correlator = new EventCorrelator((e) => this.spam.allow(e.source.component, e.involvedObject));
  private backlog: (() => Promise<void>)[] = [];
  private active = 0;

  constructor(
    private api: ApiClient,
    private node: string,
    private log: Logger,
    private component = 'kubelet',
  ) {}

  pod(pod: V1Pod, container: V1Container | string | undefined, type: EventType, reason: string, message: string): void {
    const m = pod.metadata!;
    this.emit(
      {
        kind: 'Pod',
        apiVersion: 'v1',
        name: m.name!,
        namespace: m.namespace,
        uid: m.uid,
        ...(container ? { fieldPath: containerFieldPath(pod, container) } : {}),
      },
      type,
      reason,
      message,
    );
  }

  nodeEvent(uid: string | undefined, type: EventType, reason: string, message: string): void {
    // node events live in the default namespace, about the Node named like this kubelet
    this.emit({ kind: 'Node', apiVersion: 'v1', name: this.node, uid: uid ?? this.node }, type, reason, message, 'default');
  }

  /** An event about any object (the ingress controller's about Ingresses), in the object's namespace. */
  about(ref: EventRef, type: EventType, reason: string, message: string): void {
    this.emit(ref, type, reason, message);
  }

  private emit(ref: Ref, type: EventType, reason: string, message: string, namespace = ref.namespace ?? 'default'): void {
    const source = { component: this.component, host: this.node };
    const c = this.correlator.correlate(
      { source, involvedObject: ref, type, reason, message, reportingController: this.component, reportingInstance: this.node },
      () => `${ref.name}.${randomBytes(8).toString('hex')}`,
    );
    if (c.skip) return;
    const ts = metaTime(new Date());
    const { name, count } = c;
    if (!c.create) {
      this.enqueue(async () => {
        await this.api.patch(core('events', namespace, name), { count, lastTimestamp: ts, message: c.message }, 'merge').catch(() => undefined);
      });
      return;
    }
    this.enqueue(async () => {
      await this.api.create(core('events', namespace), {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message: c.message,
        type,
        source,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: this.component,
        reportingInstance: this.node,
      });
    });
  }

  private enqueue(job: () => Promise<void>): void {
    if (this.backlog.length >= MAX_BACKLOG) return;
    this.backlog.push(job);
    this.pump();
  }

  private pump(): void {
    while (this.active < SENDERS && this.backlog.length) {
      const job = this.backlog.shift()!;
      this.active++;
      job()
        .catch((err) => this.log.debug({ err: String(err) }, 'event not recorded'))
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }

  /** Resolves when everything queued so far was sent (tests and shutdown). */
  async flush(timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((this.active || this.backlog.length) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  }
}
