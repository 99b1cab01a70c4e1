// Real-world CRDs (prometheus-operator's ServiceMonitor and PrometheusRule, test/data/crds/) are
// Established, objects from their documentation are accepted, and broken ones are refused with
// the field named, through the real kubectl.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { type Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
const data = (f: string) => readFileSync(`test/data/crds/${f}`, 'utf8');

fileCluster((cluster) => {
  c = cluster;
});

test.serial('prometheus-operator CRDs are Established', async (t) => {
  for (const f of ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml'])
    await c.ok(['apply', '--server-side', '-f', '-'], { input: data(f) });
  await c.ok(['wait', '--for=condition=Established', 'crd/servicemonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com', '--timeout=20s']);
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
    input: JSON.stringify({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'broken' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A' }] }] } }),
  });
  t.regex(noExpr.stderr, /spec.groups\[0\].rules\[0\].expr: Required value/);
  t.is((await c.kubectl(['get', 'smon', 'broken'])).code, 1);
});
