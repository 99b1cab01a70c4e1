// events.k8s.io/v1 Events against an in-process control plane: one storage with core v1 Events
// (an event written through either API reads back through the other, converted field by field as
// upstream's pkg/apis/events/v1 conversion), upstream's strict validation of events.k8s.io/v1
// creates and updates (422 with causes naming the field), its field selectors, watch, discovery
// and kubectl's table.
import test from 'ava';
import { rawClient, type RawResponse } from './_raw-client.ts';
import { startCluster, type Cluster } from './_apiserver-kit.ts';

let c: Cluster | undefined;
let send: ReturnType<typeof rawClient> | undefined;

test.before(async () => {
  c = await startCluster('sqlite');
  send = rawClient(c.admin);
  await c.ok(['create', 'namespace', 'evt']);
});
test.after.always(async () => {
  send?.close();
  await c?.close();
});

const EV = '/apis/events.k8s.io/v1/namespaces/evt/events';
const CORE = '/api/v1/namespaces/evt/events';
const json = { 'content-type': 'application/json', accept: 'application/json' };

const post = (path: string, body: unknown): Promise<RawResponse> => send!({ method: 'POST', path, headers: json, body: JSON.stringify(body) });
const mergePatch = (path: string, body: unknown): Promise<RawResponse> =>
  send!({ method: 'PATCH', path, headers: { 'content-type': 'application/merge-patch+json', accept: 'application/json' }, body: JSON.stringify(body) });
const get = (path: string): Promise<RawResponse> => send!({ path, headers: { accept: 'application/json' } });

const NOW = '2026-12-07T10:00:00.000000Z';

/** A core v1 Event about a pod in evt. */
const coreEvent = (name: string, pod: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name },
  involvedObject: { kind: 'Pod', namespace: 'evt', name: pod },
  ...extra,
});

/** A valid events.k8s.io/v1 Event about a pod in evt. */
const v1Event = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'events.k8s.io/v1',
  kind: 'Event',
  metadata: { name },
  eventTime: NOW,
  reportingController: 'example.com/test-controller',
  reportingInstance: 'test-node',
  action: 'Testing',
  reason: 'Tested',
  type: 'Normal',
  note: 'a note',
  regarding: { kind: 'Pod', namespace: 'evt', name: 'p1', apiVersion: 'v1' },
  related: { kind: 'Node', name: 'n1', apiVersion: 'v1' },
  series: { count: 2, lastObservedTime: NOW },
  ...extra,
});

test.serial('an events.k8s.io/v1 Event reads back through core v1 with every field converted', async (t) => {
  const r = await post(EV, v1Event('conv-a'));
  t.is(r.status, 201, r.text);
  t.is(r.json!.apiVersion, 'events.k8s.io/v1');
  const core = await get(`${CORE}/conv-a`);
  t.is(core.status, 200, core.text);
  t.like(core.json, {
    apiVersion: 'v1',
    kind: 'Event',
    involvedObject: { kind: 'Pod', namespace: 'evt', name: 'p1', apiVersion: 'v1' },
    message: 'a note',
    reportingComponent: 'example.com/test-controller',
    reportingInstance: 'test-node',
    action: 'Testing',
    reason: 'Tested',
    type: 'Normal',
    eventTime: NOW,
    related: { kind: 'Node', name: 'n1', apiVersion: 'v1' },
    series: { count: 2, lastObservedTime: NOW },
  });
  for (const f of ['regarding', 'note', 'reportingController']) t.false(f in core.json!, f);
  t.is(core.json!.metadata.uid, r.json!.metadata.uid);
});

test.serial('a core v1 Event reads back through events.k8s.io/v1 with the deprecated fields', async (t) => {
  const r = await post(
    CORE,
    coreEvent('conv-b', 'p2', {
      reason: 'Started',
      message: 'Started container',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: '2026-12-07T09:00:00Z',
      lastTimestamp: '2026-12-07T09:05:00Z',
      count: 3,
      type: 'Normal',
    }),
  );
  t.is(r.status, 201, r.text);
  const ev = await get(`${EV}/conv-b`);
  t.is(ev.status, 200, ev.text);
  t.like(ev.json, {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    regarding: { kind: 'Pod', namespace: 'evt', name: 'p2' },
    note: 'Started container',
    deprecatedSource: { component: 'kubelet', host: 'n1' },
    deprecatedFirstTimestamp: '2026-12-07T09:00:00Z',
    deprecatedLastTimestamp: '2026-12-07T09:05:00Z',
    deprecatedCount: 3,
    reason: 'Started',
    type: 'Normal',
  });
  for (const f of ['involvedObject', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count']) t.false(f in ev.json!, f);
  // one storage: both lists hold both events, each in its own form
  const evList = await get(EV);
  const names = (evList.json!.items as { metadata: { name: string }; apiVersion?: string }[]).map((i) => i.metadata.name).sort();
  t.deepEqual(names, ['conv-a', 'conv-b']);
  t.is(evList.json!.apiVersion, 'events.k8s.io/v1');
  t.truthy((evList.json!.items as { regarding?: unknown }[]).every((i) => i.regarding));
  const coreList = await get(CORE);
  t.deepEqual((coreList.json!.items as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort(), ['conv-a', 'conv-b']);
  t.truthy((coreList.json!.items as { involvedObject?: unknown }[]).every((i) => i.involvedObject));
});

test.serial('deleting through one API removes the event from the other; DeleteCollection through events.k8s.io', async (t) => {
  const del = await send!({ method: 'DELETE', path: `${CORE}/conv-a`, headers: json });
  t.is(del.status, 200, del.text);
  t.is((await get(`${EV}/conv-a`)).status, 404);
  const dc = await send!({ method: 'DELETE', path: EV, headers: json });
  t.is(dc.status, 200, dc.text);
  t.deepEqual((await get(CORE)).json!.items, []);
});

test.serial('events.k8s.io/v1 creates are validated as upstream: 422 Invalid with causes naming each field', async (t) => {
  const causesOf = (r: RawResponse) => (r.json!.details.causes as { field: string; message: string }[]).map((x) => `${x.field}: ${x.message}`).sort();
  // with an eventTime: the reporting fields, lengths, type, series and the deprecated fields
  const bad = v1Event('bad', {
    reportingController: undefined,
    reportingInstance: 'i'.repeat(129),
    action: '',
    type: 'Odd',
    note: 'n'.repeat(1025),
    series: { count: 1 },
    deprecatedCount: 2,
  });
  const r = await post(EV, bad);
  t.is(r.status, 422, r.text);
  t.is(r.json!.reason, 'Invalid');
  t.is(r.json!.details.kind, 'Event');
  t.is(r.json!.details.group, 'events.k8s.io');
  t.deepEqual(causesOf(r), [
    'action: Required value',
    'count: Invalid value: "": needs to be unset',
    'message: Invalid value: "": can have at most 1024 characters',
    // upstream checks IsQualifiedName as well as presence
    'reportingController: Invalid value: "": name part must be non-empty',
    'reportingController: Required value',
    'reportingInstance: Invalid value: "": can have at most 128 characters',
    'series.count: Invalid value: "": should be at least 2',
    'series.lastObservedTime: Required value',
    'type: Invalid value: "": has invalid value: Odd',
  ]);
  // without one: eventTime is required (and the legacy namespace rule applies)
  const noTime = await post(EV, v1Event('no-time', { eventTime: undefined, regarding: { kind: 'Pod', namespace: 'other', name: 'p' } }));
  t.is(noTime.status, 422, noTime.text);
  t.deepEqual(causesOf(noTime), ['eventTime: Required value', 'involvedObject.namespace: Invalid value: "other": does not match event.namespace']);
  t.regex(r.json!.message, /^Event\.events\.k8s\.io "bad" is invalid: /);
  // the same event through core v1 passes: only the legacy rules apply there
  const legacy = await post(CORE, coreEvent('legacy', 'p', { type: 'Odd' }));
  t.is(legacy.status, 201, legacy.text);
});

test.serial('events.k8s.io/v1 updates keep the event immutable but for series, note and metadata', async (t) => {
  t.is((await post(EV, v1Event('upd'))).status, 201);
  const action = await mergePatch(`${EV}/upd`, { action: 'Other' });
  t.is(action.status, 422, action.text);
  t.deepEqual(
    (action.json!.details.causes as { field: string; message: string }[]).map((x) => `${x.field}: ${x.message}`),
    ['action: Invalid value: "Other": field is immutable'],
  );
  // the note may change, as upstream's conformance test patches it through events.k8s.io/v1
  const note = await mergePatch(`${EV}/upd`, { note: 'changed' });
  t.is(note.status, 200, note.text);
  const series = await mergePatch(`${EV}/upd`, { series: { count: 3, lastObservedTime: NOW }, metadata: { labels: { a: 'b' } } });
  t.is(series.status, 200, series.text);
  t.is(series.json!.series.count, 3);
  t.is(series.json!.action, 'Testing');
});

test.serial('field selectors by events.k8s.io names; involvedObject.* is a 400 there', async (t) => {
  await post(EV, v1Event('sel-x', { regarding: { kind: 'Pod', namespace: 'evt', name: 'x' } }));
  const r = await get(`${EV}?fieldSelector=${encodeURIComponent('regarding.name=x,reportingController=example.com/test-controller')}`);
  t.is(r.status, 200, r.text);
  t.deepEqual(
    (r.json!.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ['sel-x'],
  );
  const wrong = await get(`${EV}?fieldSelector=involvedObject.name%3Dx`);
  t.is(wrong.status, 400);
  t.is(wrong.json!.message, 'field label not supported: involvedObject.name');
  const core = await get(`${CORE}?fieldSelector=involvedObject.name%3Dx`);
  t.deepEqual(
    (core.json!.items as { metadata: { name: string } }[]).map((i) => i.metadata.name),
    ['sel-x'],
  );
});

test.serial('a watch through events.k8s.io/v1 sees events written through core v1, converted', async (t) => {
  const start = (await get(EV)).json!.metadata.resourceVersion as string;
  const w = send!({
    path: `${EV}?watch=1&resourceVersion=${start}&timeoutSeconds=2&fieldSelector=regarding.name%3Dwatched`,
    headers: { accept: 'application/json' },
    timeoutMs: 10_000,
  });
  await new Promise((r) => setTimeout(r, 300));
  const created = await post(CORE, coreEvent('w1', 'watched', { message: 'hello' }));
  t.is(created.status, 201, created.text);
  const frames = (await w).text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(frames.length, 1);
  t.is(frames[0].type, 'ADDED');
  t.like(frames[0].object, { apiVersion: 'events.k8s.io/v1', note: 'hello', regarding: { name: 'watched' } });
});

test.serial('discovery serves events.k8s.io/v1 events, plain and aggregated; kubectl prints its event columns', async (t) => {
  const plain = await get('/apis/events.k8s.io/v1');
  t.is(plain.status, 200);
  t.like(
    (plain.json!.resources as { name: string }[]).find((r) => r.name === 'events'),
    { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'] },
  );
  const agg = await send!({ path: '/apis', headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } });
  const group = (agg.json!.items as { metadata: { name: string }; versions: { version: string; resources: { resource: string }[] }[] }[]).find(
    (g) => g.metadata.name === 'events.k8s.io',
  );
  t.deepEqual(
    group?.versions.map((v) => [v.version, v.resources.map((r) => r.resource)]),
    [['v1', ['events']]],
  );
  const out = await c!.ok(['get', 'events.v1.events.k8s.io', '-n', 'evt', '-o', 'wide']);
  t.regex(out.split('\n')[0], /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\s+SOURCE\s+COUNT\s+NAME/);
  t.regex(out, /Tested\s+pod\/p1\s+changed\s+example\.com\/test-controller\s+1\s+upd/);
});

test.serial('one watch cache serves both APIs: each watch selects by its own field names on the same cached objects', async (t) => {
  t.is((await post(CORE, coreEvent('cached', 'cached-pod'))).status, 201);
  /** The types of the frames a 1-second watch without a resourceVersion (from the cache's snapshot) gets. */
  const frames = async (path: string, selector: string): Promise<string[]> => {
    const r = await send!({
      path: `${path}?watch=1&timeoutSeconds=1&fieldSelector=${encodeURIComponent(selector)}`,
      headers: { accept: 'application/json' },
      timeoutMs: 10_000,
    });
    return r.text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => `${JSON.parse(l).type} ${JSON.parse(l).object.metadata.name}`);
  };
  t.deepEqual(await frames(CORE, 'involvedObject.name=cached-pod'), ['ADDED cached']);
  t.deepEqual(await frames(EV, 'regarding.name=cached-pod'), ['ADDED cached']);
  t.deepEqual(await frames(CORE, 'involvedObject.name=cached-pod'), ['ADDED cached']);
});

/** Protobuf wire bytes, written out by hand from upstream's generated.proto field numbers. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (let v = n; ; v = Math.floor(v / 128)) {
    if (v < 128) return [...out, v];
    out.push((v % 128) | 128);
  }
};
const bytesField = (num: number, b: Buffer | string): Buffer => {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([Buffer.from([...varint((num << 3) | 2), ...varint(body.length)]), body]);
};
const varintField = (num: number, n: number): Buffer => Buffer.from([...varint(num << 3), ...varint(n)]);

test.serial('an events.k8s.io/v1 Event sent as protobuf (upstream field numbers) is stored and reads back', async (t) => {
  const event = Buffer.concat([
    bytesField(1, bytesField(1, 'proto-ev')), // metadata.name
    bytesField(2, varintField(1, 1505828956)), // eventTime.seconds
    bytesField(3, Buffer.concat([varintField(1, 2), bytesField(2, varintField(1, 1505828956))])), // series
    bytesField(4, 'example.com/proto'), // reportingController
    bytesField(5, 'proto-node'), // reportingInstance
    bytesField(6, 'Do'), // action
    bytesField(7, 'Test'), // reason
    bytesField(8, Buffer.concat([bytesField(1, 'Pod'), bytesField(2, 'evt'), bytesField(3, 'pp')])), // regarding
    bytesField(10, 'sent as protobuf'), // note
    bytesField(11, 'Normal'), // type
  ]);
  const typeMeta = Buffer.concat([bytesField(1, 'events.k8s.io/v1'), bytesField(2, 'Event')]);
  const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), bytesField(1, typeMeta), bytesField(2, event)]);
  const r = await send!({ method: 'POST', path: EV, headers: { 'content-type': 'application/vnd.kubernetes.protobuf', accept: 'application/json' }, body });
  t.is(r.status, 201, r.text);
  t.is(Date.parse(r.json!.eventTime), 1505828956000);
  t.like(r.json, {
    series: { count: 2 },
    reportingController: 'example.com/proto',
    reportingInstance: 'proto-node',
    action: 'Do',
    reason: 'Test',
    regarding: { kind: 'Pod', namespace: 'evt', name: 'pp' },
    note: 'sent as protobuf',
    type: 'Normal',
  });
  const core = await get(`${CORE}/proto-ev`);
  t.like(core.json, { message: 'sent as protobuf', reportingComponent: 'example.com/proto' });
});
