// Issue 24, findings 6 and 7, against a real in-process control plane over SQLite: hostile or broken
// input is a 4xx with upstream's reason and message (never a 500, a NaN resourceVersion or a silent
// empty list), and nothing is stored.
import test from 'ava';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { rawClient, type Send } from './_raw-client.ts';

let c: Cluster;
let send: Send & { close(): void };
fileCluster((cluster, own) => {
  c = cluster;
  send = own(rawClient(c.admin));
});

const JSON_CT = { 'content-type': 'application/json' };
const nested = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const cm = (name: string, extra = '') => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"}${extra}}`;

test.serial('bodies nested deeper than 1000 (10000 and more too) are a 400 json parse error, for create, patch and YAML, and nothing is stored', async (t) => {
  const deep = nested(10_001);
  const create = await send({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: JSON_CT, body: cm('deep', `,"x":${deep}`) });
  t.is(create.status, 400, create.text.slice(0, 300));
  t.is(create.json?.reason, 'BadRequest');
  t.regex(create.json?.message, /exceeded max depth/);
  const arrays = await send({
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    headers: JSON_CT,
    body: cm('deep', `,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}`),
  });
  t.is(arrays.status, 400, arrays.text.slice(0, 300));
  const yaml = await send({
    method: 'POST',
    path: '/api/v1/namespaces/default/configmaps',
    headers: { 'content-type': 'application/yaml' },
    body: `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`,
  });
  t.is(yaml.status, 400, yaml.text.slice(0, 300));
  t.is((await send({ path: '/api/v1/namespaces/default/configmaps/deep' })).status, 404);

  t.is((await send({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: JSON_CT, body: cm('target') })).status, 201);
  for (const [ct, body] of [
    ['application/merge-patch+json', `{"data":{"a":"b"},"x":${deep}}`],
    ['application/strategic-merge-patch+json', `{"data":{"a":"b"},"x":${deep}}`],
    ['application/json-patch+json', `[{"op":"add","path":"/data","value":${deep}}]`],
    ['application/apply-patch+yaml', cm('target', `,"x":${deep}`)],
  ]) {
    const r = await send({ method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/target?fieldManager=t', headers: { 'content-type': ct }, body });
    t.is(r.status, 400, `${ct}: ${r.text.slice(0, 300)}`);
    t.regex(r.json?.message ?? '', /exceeded max depth/, ct);
  }
  const after = await send({ path: '/api/v1/namespaces/default/configmaps/target' });
  t.is(after.json?.data, undefined);
  // just past the limit (1000, below upstream's 10000: see body.ts), and within it for every patch type
  const past = await send({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: JSON_CT, body: cm('past', `,"x":${nested(1_000)}`) });
  t.is(past.status, 400, past.text.slice(0, 300));
  t.is(past.json?.message, "couldn't get version/kind; json parse error: invalid character '{' exceeded max depth");
  const atLimit = await send({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: JSON_CT, body: cm('at-limit', `,"x":${nested(998)}`) });
  t.is(atLimit.status, 201, atLimit.text.slice(0, 300));
  const within = nested(990);
  for (const [ct, body] of [
    ['application/merge-patch+json', `{"x":${within}}`],
    ['application/strategic-merge-patch+json', `{"x":${within}}`],
    ['application/json-patch+json', `[{"op":"add","path":"/x","value":${within}}]`],
    ['application/apply-patch+yaml', cm('target', `,"x":${within}`)],
  ]) {
    const r = await send({ method: 'PATCH', path: '/api/v1/namespaces/default/configmaps/target?fieldManager=t', headers: { 'content-type': ct }, body });
    t.true(r.status < 500, `${ct}: ${r.text.slice(0, 300)}`);
  }
});

test.serial('a malformed percent-escape in the path is a 400, not "URI malformed"', async (t) => {
  for (const path of [
    '/api/v1/namespaces/%zz/configmaps',
    '/api/v1/namespaces/default/configmaps/a%',
    '/apis/apps/v1/namespaces/default/deployments/%E0%A4%A',
  ]) {
    const r = await send({ path });
    t.is(r.status, 400, `${path}: ${r.text}`);
    t.is(r.json?.reason, 'BadRequest');
    t.regex(r.json?.message, /^invalid URL escape "%/);
  }
});

test.serial('nulls in arrays of objects decode to empty objects (422 naming the field), wrong types are 400', async (t) => {
  const pod = (spec: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":${spec}}`;
  const post = (body: string) => send({ method: 'POST', path: '/api/v1/namespaces/default/pods', headers: JSON_CT, body });
  const nullContainer = await post(pod('{"containers":[null]}'));
  t.is(nullContainer.status, 422, nullContainer.text);
  t.is(nullContainer.json?.reason, 'Invalid');
  t.true(
    nullContainer.json?.details.causes.some(
      (x: { field: string; reason: string }) => x.field === 'spec.containers[0].name' && x.reason === 'FieldValueRequired',
    ),
    nullContainer.text,
  );
  for (const spec of [
    '{"containers":[{"name":"c","image":"i","ports":[null],"env":[null]}]}',
    '{"containers":[{"name":"c","image":"i"}],"initContainers":[null]}',
    '{"containers":[{"name":"c","image":"i"}],"volumes":[null]}',
    '{"containers":[{"name":"c","image":"i","volumeMounts":[null]}],"tolerations":[null]}',
  ]) {
    const r = await post(pod(spec));
    t.is(r.status, 422, `${spec}: ${r.text}`);
  }
  for (const [spec, field] of [
    ['{"containers":[5]}', 'number into Go struct field PodSpec.spec.containers of type v1.Container'],
    ['{"containers":"x"}', 'string into Go struct field PodSpec.spec.containers of type []v1.Container'],
    ['{"containers":[{"name":"c","image":"i","ports":[true]}]}', 'bool into Go struct field Container.spec.containers.ports of type v1.ContainerPort'],
  ]) {
    const r = await post(pod(spec));
    t.is(r.status, 400, `${spec}: ${r.text}`);
    t.is(r.json?.message, `Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal ${field}`);
  }
  t.is((await send({ path: '/api/v1/namespaces/default/pods/p' })).status, 404);
});

test.serial('list and watch parameters parse as upstream: junk limit, resourceVersion, match, continue and timeoutSeconds are refused', async (t) => {
  const list = (qs: string) => send({ path: `/api/v1/namespaces/default/configmaps?${qs}` });
  for (const [qs, code, message] of [
    ['limit=1.5', 400, 'strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['limit=abc', 400, 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['limit=1e400', 400, 'strconv.ParseInt: parsing "1e400": invalid syntax'],
    [
      'resourceVersion=abc&resourceVersionMatch=Exact',
      400,
      'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    ],
    [
      'resourceVersion=abc&resourceVersionMatch=NotOlderThan',
      400,
      'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
    ],
    [
      'resourceVersion=0x10&resourceVersionMatch=Exact',
      400,
      'invalid resource version: resourceVersion: Invalid value: "0x10": strconv.ParseUint: parsing "0x10": invalid syntax',
    ],
    [
      'resourceVersion=1&resourceVersionMatch=bogus',
      422,
      'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "bogus": supported values: "Exact", "NotOlderThan", ""',
    ],
    [
      `continue=${Buffer.from('{"v":"meta.k8s.io/v1","rv":1,"start":"../../secrets/"}').toString('base64url')}`,
      400,
      'invalid continue token: continue key is not valid: ../../secrets/',
    ],
    ['continue=garbage!', 400, 'invalid continue token: continue key is not valid: illegal base64 data'],
    ['watch=true&timeoutSeconds=abc', 400, 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['watch=1&timeoutSeconds=99999999999999999999', 400, 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
  ] as const) {
    const r = await list(qs);
    t.is(r.status, code, `${qs}: ${r.text}`);
    t.is(r.json?.message, message, qs);
  }
  const table = await send({
    path: '/api/v1/namespaces/default/configmaps?includeObject=junk',
    headers: { accept: 'application/json;as=Table;g=meta.k8s.io;v=v1' },
  });
  t.is(table.status, 400, table.text);
  t.is(table.json?.message, 'unrecognized includeObject value: "junk"');
  // a negative limit is no limit, as upstream
  t.is((await list('limit=-1')).status, 200);
  // a watch is a watch whatever the spelling of true (upstream converts all but "0" and "false")
  const w = await list('watch=True&timeoutSeconds=1');
  t.is(w.status, 200);
  t.regex(w.headers['content-type'] as string, /json/);
  t.notRegex(w.text, /"kind":"ConfigMapList"/);
});

test.serial('a warning about a non-latin1 unknown field is sent as UTF-8, not a 500 (found by the fuzz suite)', async (t) => {
  t.is((await send({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', headers: JSON_CT, body: cm('warned') })).status, 201);
  const r = await send({
    method: 'PATCH',
    path: '/api/v1/namespaces/default/configmaps/warned',
    headers: { 'content-type': 'application/strategic-merge-patch+json' },
    body: '{"Ā":0}',
  });
  t.is(r.status, 200, r.text);
  t.is(Buffer.from(String(r.headers.warning), 'latin1').toString('utf8'), '299 - "unknown field \\"Ā\\""');
});

test.serial('a request target starting with "//" is a path, and "//%zz" does not stop the server (found by the fuzz suite)', async (t) => {
  const bad = await send({ path: '//%zz' });
  t.is(bad.status, 400, bad.text);
  t.is(bad.json?.message, 'invalid URL escape "%zz"');
  // "//api/v1/..." is the path /api/v1/... with empty segments, not a request for host "api"
  const doubled = await send({ path: '//api/v1/namespaces/default/configmaps' });
  t.is(doubled.status, 200, doubled.text);
  t.is((await send({ path: '/readyz' })).status, 200);
});

test.serial('a scale patch that replaces the Scale with null, and evictions with junk or huge grace periods, are not 500s', async (t) => {
  const dep = {
    metadata: { name: 'sc' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { a: 'sc' } },
      template: { metadata: { labels: { a: 'sc' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
  };
  t.is((await send({ method: 'POST', path: '/apis/apps/v1/namespaces/default/deployments', headers: JSON_CT, body: JSON.stringify(dep) })).status, 201);
  const nul = await send({
    method: 'PATCH',
    path: '/apis/apps/v1/namespaces/default/deployments/sc/scale',
    headers: { 'content-type': 'application/json-patch+json' },
    body: '[{"op":"replace","path":"","value":null}]',
  });
  t.is(nul.status, 400, nul.text);
  t.is(nul.json?.message, 'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal null into Go value of type autoscaling.Scale');
  for (const name of ['ev1', 'ev2'])
    t.is(
      (
        await send({
          method: 'POST',
          path: '/api/v1/namespaces/default/pods',
          headers: JSON_CT,
          body: JSON.stringify({ metadata: { name }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }] } }),
        })
      ).status,
      201,
    );
  const junk = await send({
    method: 'POST',
    path: '/api/v1/namespaces/default/pods/ev1/eviction',
    headers: JSON_CT,
    body: '{"deleteOptions":{"gracePeriodSeconds":"abc"}}',
  });
  t.is(junk.status, 400, junk.text);
  t.regex(junk.json?.message, /json: cannot unmarshal string into Go struct field .*gracePeriodSeconds of type int64/);
  t.falsy((await send({ path: '/api/v1/namespaces/default/pods/ev1' })).json?.metadata?.deletionTimestamp);
  // a number past int64 is refused as Go's decoder refuses it
  const past = await send({
    method: 'POST',
    path: '/api/v1/namespaces/default/pods/ev2/eviction',
    headers: JSON_CT,
    body: '{"deleteOptions":{"gracePeriodSeconds":1e300}}',
  });
  t.is(past.status, 400, past.text);
  t.regex(past.json?.message, /cannot unmarshal number 1e\+?300 into Go struct field .*gracePeriodSeconds of type int64/);
  // any int64 is a valid grace period: the deletion timestamp stops at year 9999
  const huge = await send({
    method: 'POST',
    path: '/api/v1/namespaces/default/pods/ev2/eviction',
    headers: JSON_CT,
    body: '{"deleteOptions":{"gracePeriodSeconds":9007199254740991}}',
  });
  t.is(huge.status, 201, huge.text);
  t.is((await send({ path: '/api/v1/namespaces/default/pods/ev2' })).json?.metadata?.deletionTimestamp, '9999-12-31T23:59:59Z');
});
