// Events, served twice from one storage: core v1 (the stored form) and events.k8s.io/v1 (converted
// on the way in and out by events-convert.ts). Validation is upstream's
// pkg/apis/core/validation/events.go on the core form, so its field paths are the core names
// (message, involvedObject.namespace, source ...), as upstream reports them through either API:
// every write passes the legacy rules, and a create or update through events.k8s.io/v1 also the
// strict ones (eventTime, reportingController/Instance, action, type, series; nothing deprecated
// set; the event's content immutable). Both print kubectl's event columns.
import { age, col, NAME_COLUMN, type TableSpec } from '../tables/table.ts';
import { type FieldError, immutableField, invalid, required } from '../validation/field.ts';
import { dns1123Subdomain, qualifiedName } from '../validation/names.ts';
import { coreToEventsV1InPlace, eventsV1ToCore } from './events-convert.ts';
import type { Obj, Strategy } from './types.ts';

const REPORTING_INSTANCE_LENGTH_LIMIT = 128;
const ACTION_LENGTH_LIMIT = 128;
const REASON_LENGTH_LIMIT = 128;
const NOTE_LENGTH_LIMIT = 1024;

/** A metav1.Time / MicroTime that is unset (Go's zero time). */
const unset = (t: unknown): boolean => t === undefined || t === null || t === '';
const len = (s: unknown): number => (typeof s === 'string' ? s.length : 0);

/** legacyValidateEvent: every Event, through either API (core form). */
function legacyValidateEvent(e: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const ns = e.metadata.namespace ?? '';
  const invNs: string = e.involvedObject?.namespace ?? '';
  const nsMismatch = () => invalid('involvedObject.namespace', invNs, 'does not match event.namespace');
  if (unset(e.eventTime)) {
    // an "old" event: its namespace agrees with the object's ("default" for cluster-scoped ones)
    if (!invNs) {
      if (ns !== '' && ns !== 'default') errs.push(nsMismatch());
    } else if (ns !== invNs) errs.push(nsMismatch());
  } else {
    if (!invNs && ns !== 'default' && ns !== 'kube-system') errs.push(nsMismatch());
    const rc: string = e.reportingComponent ?? '';
    if (!rc) errs.push(required('reportingController', ''));
    for (const m of qualifiedName(rc)) errs.push(invalid('reportingController', rc, m));
    if (!len(e.reportingInstance)) errs.push(required('reportingInstance', ''));
    if (len(e.reportingInstance) > REPORTING_INSTANCE_LENGTH_LIMIT)
      errs.push(invalid('reportingInstance', '', `can have at most ${REPORTING_INSTANCE_LENGTH_LIMIT} characters`));
    if (!len(e.action)) errs.push(required('action', ''));
    if (len(e.action) > ACTION_LENGTH_LIMIT) errs.push(invalid('action', '', `can have at most ${ACTION_LENGTH_LIMIT} characters`));
    if (!len(e.reason)) errs.push(required('reason', ''));
    if (len(e.reason) > REASON_LENGTH_LIMIT) errs.push(invalid('reason', '', `can have at most ${REASON_LENGTH_LIMIT} characters`));
    if (len(e.message) > NOTE_LENGTH_LIMIT) errs.push(invalid('message', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  }
  for (const m of dns1123Subdomain(ns)) errs.push(invalid('namespace', ns, m));
  return errs;
}

/** validateV1EventSeries */
function validateSeries(e: Obj): FieldError[] {
  if (!e.series) return [];
  const errs: FieldError[] = [];
  if (!(typeof e.series.count === 'number' && e.series.count >= 2)) errs.push(invalid('series.count', '', 'should be at least 2'));
  if (unset(e.series.lastObservedTime)) errs.push(required('series.lastObservedTime', ''));
  return errs;
}

/** ValidateEventCreate's strict part, for creates through events.k8s.io/v1 (core form). */
function validateStrictCreate(e: Obj): FieldError[] {
  const errs = validateSeries(e);
  if (unset(e.eventTime)) errs.push(required('eventTime', ''));
  if (e.type !== 'Normal' && e.type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${e.type ?? ''}`));
  if (!unset(e.firstTimestamp)) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (!unset(e.lastTimestamp)) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if (e.count) errs.push(invalid('count', '', 'needs to be unset'));
  if (e.source?.component || e.source?.host) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/**
 * The fields ValidateEventUpdate keeps immutable through events.k8s.io/v1, in upstream's order,
 * but for message: upstream's [Conformance] test "Events API should ensure that an event can be
 * fetched, patched, deleted, and listed" patches the note through events.k8s.io/v1 and passes
 * against kube-apiserver, so a changed note is accepted there.
 */
const IMMUTABLE = [
  'involvedObject',
  'reason',
  'source',
  'firstTimestamp',
  'lastTimestamp',
  'count',
  'reason',
  'type',
  'eventTime',
  'action',
  'related',
  'reportingComponent',
  'reportingInstance',
] as const;

/** Upstream's internal name of a core v1 field (the path its errors name). */
const INTERNAL_NAME: Partial<Record<(typeof IMMUTABLE)[number], string>> = { reportingComponent: 'reportingController' };

/** ValidateEventUpdate's strict part (core forms). */
function validateStrictUpdate(next: Obj, old: Obj): FieldError[] {
  const errs = JSON.stringify(next.series ?? null) === JSON.stringify(old.series ?? null) ? [] : validateSeries(next);
  for (const f of IMMUTABLE) errs.push(...immutableField(INTERNAL_NAME[f] ?? f, next[f], old[f]));
  return errs;
}

function lastSeen(o: Obj): string | undefined {
  return o.lastTimestamp ?? o.eventTime ?? o.firstTimestamp ?? o.metadata.creationTimestamp;
}

/** kubectl get events' columns, of the core form. */
const EVENT_TABLE: TableSpec = {
  columns: [
    col('Last Seen', 'Time when last event occurred'),
    col('Type', 'Type of this event.'),
    col('Reason', 'Reason is why the action was taken.'),
    col('Object', 'The object this event is about.'),
    col('Message', 'A human-readable description of the status of this operation.'),
    col('Source', 'The component reporting this event.', 1),
    col('Count', 'The number of times this event has occurred.', 1, 'integer'),
    { ...NAME_COLUMN, priority: 1 },
  ],
  row(o, now) {
    const inv = o.involvedObject ?? {};
    const obj = `${String(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`;
    const src = o.source?.component ? [o.source.component, o.source.host].filter(Boolean).join(', ') : (o.reportingComponent ?? '');
    return [age(lastSeen(o), now), o.type ?? '', o.reason ?? '', obj, String(o.message ?? '').trim(), src, o.count ?? 1, o.metadata.name];
  },
};

/** The selectable fields of an event's object reference, under `at` (involvedObject, regarding). */
function referenceFields(at: string, ref: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) out[`${at}.${f}`] = ref?.[f] ?? '';
  return out;
}

export const eventStrategy: Strategy = {
  validate: legacyValidateEvent,
  selectableFields: (o) => ({
    ...referenceFields('involvedObject', o.involvedObject),
    reason: o.reason ?? '',
    reportingComponent: o.reportingComponent ?? '',
    source: o.source?.component || (o.reportingComponent ?? ''),
    type: o.type ?? '',
  }),
  table: EVENT_TABLE,
};

/** events.k8s.io/v1: read and written in its own form, stored, validated and printed in core form. */
export const eventsV1Strategy: Strategy = {
  validate: (o) => legacyValidateEvent(eventsV1ToCore(o)),
  validateCreate: (o) => validateStrictCreate(eventsV1ToCore(o)),
  validateUpdate: (next, old) => validateStrictUpdate(eventsV1ToCore(next), eventsV1ToCore(old)),
  // upstream's field label conversion for events.k8s.io: regarding.* and reportingController
  selectableFields: (o) => ({
    ...referenceFields('regarding', o.regarding),
    reason: o.reason ?? '',
    reportingController: o.reportingController ?? '',
    source: o.deprecatedSource?.component || (o.reportingController ?? ''),
    type: o.type ?? '',
  }),
  table: { columns: EVENT_TABLE.columns, row: (o, now) => EVENT_TABLE.row(eventsV1ToCore(o), now) },
  fromStorage: coreToEventsV1InPlace,
  convertToStorage: async (o) => eventsV1ToCore(o),
};
