// Real-world CRDs (prometheus-operator's ServiceMonitor and PrometheusRule, Gateway API's Gateway
// and GatewayClass with their CEL rules, test/data/crds/) are Established, objects from their
// documentation are accepted, and broken ones are refused with the field named, through the real kubectl.
import test from 'ava';
import { readFileSync } from 'node:fs';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
const data = (f: string) => readFileSync(`test/data/crds/${f}`, 'utf8');

fileCluster((cluster) => {
  c = cluster;
});

test.serial('prometheus-operator CRDs are Established', async (t) => {
  for (const f of ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'])
    await c.ok(['apply', '--server-side', '-f', '-'], { input: data(f) });
  await c.ok([
    'wait',
    '--for=condition=Established',
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/prometheusrules.monitoring.coreos.com',
    '--timeout=20s',
  ]);
  t.regex(await c.ok(['api-resources', '--api-group=monitoring.coreos.com']), /servicemonitors\s+smon\s+monitoring.coreos.com\/v1\s+true\s+ServiceMonitor/);
});

test.serial('a ServiceMonitor and a PrometheusRule from the docs are accepted; broken ones name the field', async (t) => {
  await c.ok(['apply', '-f', '-'], {
    input: `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: example-app, labels: {team: frontend}}
spec:
  selector: {matchLabels: {app: example-app}}
  endpoints:
  - port: web
`,
  });
  await c.ok(['apply', '-f', '-'], {
    input: `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: example-rules}
spec:
  groups:
  - name: example
    rules:
    - alert: HighRequestLatency
      expr: job:request_latency_seconds:mean5m{job="myjob"} > 0.5
      for: 10m
      labels: {severity: page}
`,
  });
  t.regex(await c.ok(['get', 'smon']), /^example-app\s+\d+s$/m);
  t.is(JSON.parse(await c.ok(['get', 'promrule', 'example-rules', '-o', 'json'])).spec.groups[0].rules[0].for, '10m');
  const bad = await c.kubectl(['apply', '-f', '-'], {
    input: `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: broken}
spec:
  selector: {}
  endpoints:
  - port: web
    scheme: gopher
`,
  });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /spec.endpoints\[0\].scheme: Unsupported value: "gopher": supported values: "http", "https", "HTTP", "HTTPS"/);
  const noExpr = await c.kubectl(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: 'broken' },
      spec: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] },
    }),
  });
  t.regex(noExpr.stderr, /spec.groups\[0\].rules\[0\].expr: Required value/);
  t.is((await c.kubectl(['get', 'smon', 'broken'])).code, 1);
});

const gateway = (listeners: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: example
  listeners:
${listeners}`;

test.serial('Gateway API: valid objects are accepted, rule violations refused with the rule message at its path', async (t) => {
  for (const f of ['gateway.networking.k8s.io_gatewayclasses.yaml', 'gateway.networking.k8s.io_gateways.yaml'])
    await c.ok(['apply', '--server-side', '-f', '-'], { input: data(f) });
  await c.ok([
    'wait',
    '--for=condition=Established',
    'crd/gateways.gateway.networking.k8s.io',
    'crd/gatewayclasses.gateway.networking.k8s.io',
    '--timeout=20s',
  ]);
  const http = '  - {name: http, port: 80, protocol: HTTP}\n';
  const dup = await c.kubectl(['create', '-f', '-'], { input: gateway(http + http) });
  t.is(dup.code, 1);
  t.regex(dup.stderr, /The Gateway "gw" is invalid: [^]*\* spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway/);
  const tls = await c.kubectl(['create', '-f', '-'], { input: gateway('  - {name: tls, port: 443, protocol: TLS}\n') });
  t.regex(tls.stderr, /spec.listeners: Invalid value: "array": tls mode must be set for protocol TLS/);
  t.is((await c.kubectl(['get', 'gateway', 'gw'])).code, 1);
  await c.ok(['create', '-f', '-'], {
    input: gateway(http + '  - {name: https, port: 443, protocol: HTTPS, hostname: example.com, tls: {mode: Terminate, certificateRefs: [{name: cert}]}}\n'),
  });
  // GatewayClass spec.controllerName: self == oldSelf, a transition rule: create passes, a change is refused
  await c.ok(['create', '-f', '-'], {
    input: 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: example}\nspec: {controllerName: example.com/gateway-controller}\n',
  });
  const change = await c.kubectl(['patch', 'gatewayclass', 'example', '--type=merge', '-p', '{"spec":{"controllerName":"example.com/other"}}']);
  t.is(change.code, 1);
  t.regex(change.stderr, /The GatewayClass "example" is invalid: spec.controllerName: Invalid value: "string": field is immutable/);
  await c.ok(['patch', 'gatewayclass', 'example', '--type=merge', '-p', '{"spec":{"description":"ok"}}']);
});
