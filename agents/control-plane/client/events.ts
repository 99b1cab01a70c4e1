// core/v1 Events about an object, as the scheduler and controllers record them for kubectl describe.
import { randomBytes } from 'node:crypto';
import { isoNow, type Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from './loopback.ts';
import { EventSpamFilter } from './event-spam.ts';

// one per process, as upstream's recorder keeps one per broadcaster
const spam = new EventSpamFilter();

export async function recordEvent(client: LoopbackClient, about: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string): Promise<void> {
  const ns = about.metadata.namespace ?? 'default';
  const now = isoNow(new Date());
  if (!spam.allow(component, { kind: about.kind, apiVersion: about.apiVersion, namespace: about.metadata.namespace, name: about.metadata.name, uid: about.metadata.uid })) return;
  try {
    await client.create(`/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${about.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: {
        apiVersion: about.apiVersion ?? 'v1',
        kind: about.kind,
        namespace: about.metadata.namespace,
        name: about.metadata.name,
        uid: about.metadata.uid,
        resourceVersion: about.metadata.resourceVersion,
      },
      reason,
      message,
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
