// core/v1 Events about an object, as the scheduler and controllers record them for kubectl describe:
// correlated as upstream's recorder does (agents/api/event-correlator.ts: a repeat patches the
// first one's count and lastTimestamp, similar ones are combined after 10), then the spam filter.
import { randomBytes } from 'node:crypto';
import { EventCorrelator } from '../../api/event-correlator.ts';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from './loopback.ts';
import { EventSpamFilter } from '../../api/event-spam.ts';

// one per process, as upstream's recorder keeps one per broadcaster
const spam = new EventSpamFilter();
const correlator = new EventCorrelator((e) => spam.allow(e.source.component, e.involvedObject));

export async function recordEvent(
  client: LoopbackClient,
  about: Obj,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  component: string,
): Promise<void> {
  const ns = about.metadata.namespace ?? 'default';
  const involvedObject = {
    apiVersion: about.apiVersion ?? 'v1',
    kind: about.kind,
    namespace: about.metadata.namespace,
    name: about.metadata.name,
    uid: about.metadata.uid,
  };
  const c = correlator.correlate(
    { source: { component }, involvedObject, type, reason, message, reportingController: component, reportingInstance: component },
    () => `${about.metadata.name}.${randomBytes(8).toString('hex')}`,
  );
  if (c.skip) return;
  const now = isoNow(new Date());
  try {
    if (!c.create) {
      await client.patch(`/api/v1/namespaces/${ns}/events/${c.name}`, { count: c.count, lastTimestamp: now, message: c.message }, 'merge');
      return;
    }
    await client.create(`/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: c.name, namespace: ns },
      involvedObject: { ...involvedObject, resourceVersion: about.metadata.resourceVersion },
      reason,
      message: c.message,
      type,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: component,
      reportingInstance: component,
    });
  } catch {
    // events are best effort, as upstream's recorder treats them
  }
}
