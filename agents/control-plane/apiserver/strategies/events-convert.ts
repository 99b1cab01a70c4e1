// events.k8s.io/v1 <-> core v1 Event conversion, field by field as upstream's
// pkg/apis/events/v1/conversion.go (through the internal type): both APIs serve the one stored
// object, kept in core v1 form. regarding <-> involvedObject, note <-> message, reportingController
// <-> reportingComponent, deprecatedSource/FirstTimestamp/LastTimestamp/Count <-> source,
// firstTimestamp, lastTimestamp, count; eventTime, series, action, reason, type, related and
// reportingInstance carry over unchanged. Pure.
import type { Obj } from './types.ts';

export const CORE_EVENT = 'v1';
export const EVENTS_V1 = 'events.k8s.io/v1';

/** [events.k8s.io/v1 name, core v1 name] of the fields that are renamed. */
const RENAMED = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
] as const;

/** Fields events.k8s.io/v1 leaves out when empty (omitempty strings), which core v1 always writes. */
const OMIT_EMPTY_V1 = ['note', 'reportingController', 'reportingInstance', 'action', 'reason', 'type'] as const;

/** Renames `from` fields to `to` fields in a copy of o (an absent field stays absent). */
function renamed(o: Obj, dir: 0 | 1, apiVersion: string): Obj {
  const out: Obj = { ...o, apiVersion };
  for (const pair of RENAMED) {
    const from = pair[dir];
    const to = pair[1 - dir];
    delete out[to];
    if (from in o) {
      out[to] = o[from];
      delete out[from];
    }
  }
  return out;
}

/** An events.k8s.io/v1 Event in core v1 form (an object already in core form is returned as is). */
export function eventsV1ToCore(o: Obj): Obj {
  if (o.apiVersion !== EVENTS_V1) return o;
  const out = renamed(o, 0, CORE_EVENT);
  out.involvedObject ??= {};
  return out;
}

/** A core v1 Event in events.k8s.io/v1 form (one already in that form is returned as is). */
export function coreToEventsV1(o: Obj): Obj {
  if (o.apiVersion === EVENTS_V1) return o;
  const out = renamed(o, 1, EVENTS_V1);
  for (const f of OMIT_EMPTY_V1) if (out[f] === '') delete out[f];
  return out;
}

/** coreToEventsV1 in place (the read side of the events.k8s.io strategy). */
export function coreToEventsV1InPlace(o: Obj): void {
  const out = coreToEventsV1(o);
  if (out === o) return;
  for (const k of Object.keys(o)) delete o[k];
  Object.assign(o, out);
}
