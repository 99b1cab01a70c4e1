// The upstream conformance list the report measures against, and the check that keeps the suite's
// names on it: every test title in test/e2e that claims an upstream conformance name ("[Conformance]")
// must be exactly a codename on the list, tags ([NodeConformance], [LinuxOnly], [Serial] ...) and all.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { byCapability, capabilityOf, UNCLASSIFIED } from '../conformance/capabilities.ts';
import { declaredTitles } from '../conformance/discover.ts';
import { loadUpstream, nameMismatches, nearest, parseUpstream } from '../conformance/upstream.ts';

const list = loadUpstream();
const E2E = 'test/e2e';
const e2eFiles = readdirSync(E2E)
  .filter((f) => f.endsWith('.test.ts'))
  .sort()
  .map((f) => ({ path: `${E2E}/${f}`, source: readFileSync(`${E2E}/${f}`, 'utf8') }));

test('every [Conformance] title in test/e2e is exactly a name on the upstream list', (t) => {
  const files = e2eFiles.map((f) => ({ path: f.path, titles: declaredTitles(f.source) }));
  const bad = nameMismatches(files, list).map((m) => `${m.file}: "${m.title}"\n    nearest upstream ${list.release} name: "${m.nearest}"`);
  t.deepEqual(bad, [], `titles claiming an upstream conformance name that is not on ${list.path}:\n${bad.join('\n')}`);
});

test('every "[Conformance]" in test/e2e is in a title the check can read', (t) => {
  // a title built with ${...} or split over a concatenation escapes the name check: spell it out
  const unread = e2eFiles.flatMap((f) => {
    const read = declaredTitles(f.source).filter((x) => x.includes('[Conformance]')).length;
    const mentioned = f.source.split('[Conformance]').length - 1;
    return mentioned === read ? [] : [`${f.path}: ${mentioned} mentions of [Conformance], ${read} readable titles`];
  });
  t.deepEqual(unread, []);
});

test('the v1.35 list: 441 tests, each with its SIG, release and upstream file, no duplicates', (t) => {
  t.is(list.release, 'v1.35');
  t.is(list.tests.length, 441);
  const sigs = new Map<string, number>();
  for (const x of list.tests) sigs.set(x.sig, (sigs.get(x.sig) ?? 0) + 1);
  t.deepEqual(Object.fromEntries([...sigs].sort()), {
    'sig-api-machinery': 95,
    'sig-apps': 60,
    'sig-architecture': 1,
    'sig-auth': 10,
    'sig-cli': 17,
    'sig-instrumentation': 4,
    'sig-network': 47,
    'sig-node': 105,
    'sig-scheduling': 11,
    'sig-storage': 91,
  });
  for (const x of list.tests) {
    t.regex(x.codename, /^\[sig-[a-z-]+\] .* \[Conformance\]$/, x.codename);
    t.regex(x.release, /^v?1\.\d+(, v1\.\d+)*$/, x.codename);
    t.regex(x.file, /^test\/e2e\/[a-z_/]+\.go$/, x.codename);
  }
  t.true(list.tests.some((x) => x.codename === '[sig-node] Pods should get a host IP [NodeConformance] [Conformance]'));
});

test('parseUpstream: refuses a list it cannot read as facts', (t) => {
  const head = 'sig\trelease\tfile\tcodename';
  t.throws(() => parseUpstream('a\tb', 'v1'), { message: /first line that is not a comment must be/ });
  t.throws(() => parseUpstream(`${head}\nsig-x\tv1.9\tf.go`, 'v1', 'l.tsv'), { message: /^l\.tsv:2: 3 fields, want 4$/ });
  t.throws(() => parseUpstream(`${head}\nsig-x\tv1.9\tf.go\t[sig-y] n [Conformance]`, 'v1'), { message: /does not start with \[sig-x\]/ });
  t.throws(() => parseUpstream(`# c\n${head}\nsig-x\tv1\tf\t[sig-x] a\nsig-x\tv1\tf\t[sig-x] a`, 'v1'), { message: /:4: "\[sig-x\] a" is listed twice/ });
  t.is(parseUpstream(`# only comments\n\n${head}\n`, 'v1').tests.length, 0);
});

test('nameMismatches and nearest: a stray tag is reported with the upstream name it should be', (t) => {
  const mm = nameMismatches(
    [
      {
        path: 'test/e2e/dns.test.ts',
        titles: [
          '[sig-network] DNS should provide DNS for the cluster [Conformance]',
          '[sig-network] DNS should provide DNS for pods for Hostname [LinuxOnly] [Conformance]',
          '[sig-network] [hawser] a check of our own',
        ],
      },
    ],
    list,
  );
  t.deepEqual(mm, [
    {
      file: 'test/e2e/dns.test.ts',
      title: '[sig-network] DNS should provide DNS for pods for Hostname [LinuxOnly] [Conformance]',
      nearest: '[sig-network] DNS should provide DNS for pods for Hostname [Conformance]',
    },
  ]);
  t.is(nearest('a b c', ['a x c', 'a b c d', 'z']), 'a x c');
  t.is(nearest('x', []), undefined);
});

test('capabilities: the rule table classifies the list, first matching rule wins', (t) => {
  const of = (name: string) => {
    const x = list.tests.find((u) => u.codename.includes(name));
    if (!x) throw new Error(`no upstream test named like ${name}`);
    return capabilityOf(x);
  };
  t.is(
    of('AdmissionWebhook [Privileged:ClusterAdmin] should mutate custom resource [Conformance]'),
    "mirrored: admission webhooks (test/e2e/api-machinery-webhook.test.ts; agnhost's paths served by a process named by URL)",
    'the file rule comes before CRDs',
  );
  t.is(
    of('AdmissionWebhook [Privileged:ClusterAdmin] should be able to create and update validating webhook configurations with match conditions'),
    'mirrored: webhook matchConditions (CEL; test/e2e/api-machinery-webhook.test.ts)',
  );
  t.is(
    of('FieldValidation should detect duplicates in a CR'),
    'mirrored: FieldValidation (typed objects in test/e2e/api-machinery-api.test.ts, custom objects in api-machinery-field-validation.test.ts)',
  );
  t.is(of('should support remote command execution over websockets'), 'test only: pods and containers', 'served over WebSocket since #16: no rule of its own');
  t.is(
    of('Proxy version v1 should proxy through a service and a pod'),
    'mirrored: Proxy (test/e2e/network-proxy.test.ts)',
    "HTTPS from the test image's porter since #16",
  );
  t.is(of('Proxy version v1 A set of valid responses are returned for both pod and service Proxy'), 'mirrored: Proxy (test/e2e/network-proxy.test.ts)');
  t.is(of('Ephemeral Containers [NodeConformance] will start'), 'test only: ephemeral containers are served and run (test/e2e/cli-debug-proxy.test.ts)');
  t.is(
    of('ConfigMap should be consumable from pods in volume [NodeConformance]'),
    'mirrored: pod volumes (configMap, secret, downwardAPI, projected, emptyDir, subPath)',
  );
  t.is(of('ReplicaSet Replace and Patch tests'), 'mirrored: workload controller API operations (status, scale, patch, DeleteCollection, lifecycle)');
  t.is(of('Deployment deployment should support proportional scaling'), 'test only: workload controllers', 'not mirrored yet');
  t.is(capabilityOf({ codename: '[sig-z] something new [Conformance]', file: 'test/e2e/z/new.go' }), UNCLASSIFIED);
  const unclassified = list.tests.filter((x) => capabilityOf(x) === UNCLASSIFIED).map((x) => x.codename);
  t.true(unclassified.length <= 5, `add rules for these to test/conformance/capabilities.ts:\n${unclassified.join('\n')}`);
  const counts = byCapability(list.tests);
  t.is(
    counts.reduce((a, c) => a + c.count, 0),
    list.tests.length,
  );
  t.true(
    counts.every((c, i) => i === 0 || counts[i - 1].count >= c.count),
    'most tests first',
  );
});
