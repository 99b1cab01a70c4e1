// [sig-instrumentation] conformance mirrors (issue 20): Events through core v1 (upstream's
// test/e2e/instrumentation/core_events.go) and through events.k8s.io/v1 (events.go), which serve one
// storage: create, list across namespaces by label, field selectors (core `source`, events.k8s.io
// `reportingController`), strategic merge patch, update, delete and DeleteCollection, through the
// real kubectl v1.35 and raw API paths. Nothing runs in a pod; any cluster will do.
import { conformance, type Kube, until } from '../conformance/fixture.ts';

const it = conformance('instrumentation-events');

type Event = Record<string, any> & {
  metadata: { name: string; namespace: string; labels?: Record<string, string>; resourceVersion?: string; managedFields?: unknown };
};
const EVENTS_V1 = 'events.v1.events.k8s.io';
const SOME_TIME = '2017-09-19T13:49:16.000000Z'; // time.Unix(1505828956, 0) as a MicroTime

/** upstream's newTestEvent (events.go): an events.k8s.io/v1 Event about nothing in ns. */
const newTestEvent = (ns: string, name: string, label: string): Event => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name, namespace: ns, labels: { [label]: 'true' } },
  regarding: { namespace: ns },
  eventTime: SOME_TIME,
  note: `This is ${name}`,
  action: 'Do',
  reason: 'Test',
  type: 'Normal',
  reportingController: 'test-controller',
  reportingInstance: 'test-node',
});

/** upstream's core v1 test event (core_events.go). */
const coreTestEvent = (ns: string, name: string, label: string, message: string): Event => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name, namespace: ns, labels: { [label]: 'true' } },
  message,
  reason: 'Test',
  type: 'Normal',
  count: 1,
  involvedObject: { namespace: ns },
});

const names = (list: { items: Event[] }, ns: string): string[] => list.items.filter((e) => e.metadata.namespace === ns).map((e) => e.metadata.name);

/** The object without what the control plane sets on every write (upstream clears these before comparing). */
const comparable = (e: Event): Event => {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = e.metadata;
  return { ...e, metadata } as Event;
};

/** Creates three labelled events, checks the label lists them, deletes them as a collection and waits for none. */
async function deleteCollection(k: Kube, resource: string, events: Event[], t: { deepEqual: (a: unknown, b: unknown, m?: string) => void }): Promise<void> {
  k.create(...events);
  t.deepEqual(
    k
      .json<{ items: Event[] }>(['get', resource, '-l', 'testevent-set=true'])
      .items.map((e) => e.metadata.name)
      .sort(),
    events.map((e) => e.metadata.name).sort(),
  );
  k.ok(['delete', resource, '-l', 'testevent-set=true']);
  await until('the labelled events are gone', () => k.json<{ items: Event[] }>(['get', resource, '-l', 'testevent-set=true']).items.length === 0, 60_000, 1000);
}

it('[sig-instrumentation] Events API should ensure that an event can be fetched, patched, deleted, and listed [Conformance]', async (t, c) => {
  const name = 'event-test';
  c.k.create(newTestEvent(c.ns, name, 'testevent-constant'));
  t.deepEqual(names(c.kc.json(['get', EVENTS_V1, '-A', '-l', 'testevent-constant=true']), c.ns), [name], 'listed in all namespaces');
  t.deepEqual(names(c.k.json(['get', EVENTS_V1, '-l', 'testevent-constant=true']), c.ns), [name], 'listed in the namespace');
  // the core API selects by source (the reporting controller when no source is set)
  t.deepEqual(
    c.k.json<{ items: Event[] }>(['get', 'events.v1.', '--field-selector', 'source=test-controller']).items.map((e) => e.metadata.name),
    [name],
  );
  t.deepEqual(
    c.k.json<{ items: Event[] }>(['get', EVENTS_V1, '--field-selector', 'reportingController=test-controller']).items.map((e) => e.metadata.name),
    [name],
  );
  const testEvent = c.k.json<Event>(['get', EVENTS_V1, name]);
  const note = 'This is a test event - patched';
  c.k.ok(['patch', EVENTS_V1, name, '--type=strategic', '-p', JSON.stringify({ note })]);
  const patched = c.k.json<Event>(['get', EVENTS_V1, name]);
  t.deepEqual(comparable(patched), comparable({ ...testEvent, note }), 'only the note changed');
  // update with a series
  const withSeries = { ...patched, series: { count: 100, lastObservedTime: SOME_TIME } };
  c.k.ok(['replace', '-f', '-'], JSON.stringify(withSeries));
  const updated = c.k.json<Event>(['get', EVENTS_V1, name]);
  t.deepEqual(comparable(updated), comparable(withSeries), 'the series was stored');
  c.k.ok(['delete', EVENTS_V1, name]);
  t.deepEqual(names(c.kc.json(['get', EVENTS_V1, '-A', '-l', 'testevent-constant=true']), c.ns), [], 'gone from all namespaces');
  t.deepEqual(names(c.k.json(['get', EVENTS_V1, '-l', 'testevent-constant=true']), c.ns), [], 'gone from the namespace');
});

it('[sig-instrumentation] Events API should delete a collection of events [Conformance]', async (t, c) => {
  await deleteCollection(
    c.k,
    EVENTS_V1,
    ['test-event-1', 'test-event-2', 'test-event-3'].map((n) => newTestEvent(c.ns, n, 'testevent-set')),
    t,
  );
});

it('[sig-instrumentation] Events should delete a collection of events [Conformance]', async (t, c) => {
  await deleteCollection(
    c.k,
    'events.v1.',
    ['test-event-1', 'test-event-2', 'test-event-3'].map((n) => coreTestEvent(c.ns, n, 'testevent-set', `This is ${n}`)),
    t,
  );
});

it('[sig-instrumentation] Events should manage the lifecycle of an event [Conformance]', async (t, c) => {
  const name = 'event-test';
  c.k.create(coreTestEvent(c.ns, name, 'testevent-constant', 'This is a test event'));
  t.deepEqual(names(c.kc.json(['get', 'events.v1.', '-A', '-l', 'testevent-constant=true']), c.ns), [name], 'listed in all namespaces');
  const message = 'This is a test event - patched';
  c.k.ok(['patch', 'events.v1.', name, '--type=strategic', '-p', JSON.stringify({ message })]);
  const patched = c.k.json<Event>(['get', 'events.v1.', name]);
  t.is(patched.message, message);
  // update: a series, read back
  const lastObservedTime = new Date().toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
  c.k.ok(['replace', '-f', '-'], JSON.stringify({ ...patched, series: { count: 100, lastObservedTime } }));
  t.deepEqual(c.k.json<Event>(['get', 'events.v1.', name]).series, { count: 100, lastObservedTime });
  c.k.ok(['delete', 'events.v1.', name]);
  t.deepEqual(names(c.kc.json(['get', 'events.v1.', '-A', '-l', 'testevent-constant=true']), c.ns), [], 'gone after deletion');
});
