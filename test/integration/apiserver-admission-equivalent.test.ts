// matchPolicy Equivalent for ValidatingAdmissionPolicies and validating webhooks:
// HorizontalPodAutoscalers are served as autoscaling/v2 and autoscaling/v1 (one storage). A rule
// naming v2 also judges a request through v1 (matchPolicy Equivalent, the default), seeing the
// object converted to v2 and kind v2 with requestKind v1, as upstream; with matchPolicy Exact it
// does not.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';
import { startWebhookServer, type WebhookServer } from './_webhook-server.ts';

let c: Cluster;
let hook: WebhookServer;
fileCluster(async (cluster, own) => {
  c = cluster;
  hook = own(await startWebhookServer({ '/allow': () => ({ allowed: true }) }));
});

const policy = (name: string, matchPolicy: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicy',
  metadata: { name },
  spec: {
    matchConstraints: {
      matchPolicy,
      resourceRules: [{ operations: ['CREATE'], apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'] }],
    },
    validations: [
      {
        expression: 'object.spec.metrics[0].resource.target.averageUtilization < 50',
        messageExpression: "'as ' + request.kind.version + ' from ' + request.requestKind.version + ': ' + object.apiVersion",
      },
    ],
  },
});
const binding = (name: string, ns: string) => ({
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'ValidatingAdmissionPolicyBinding',
  metadata: { name },
  spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } } },
});
const hpa = (version: 'v1' | 'v2', name: string) =>
  JSON.stringify({
    apiVersion: `autoscaling/${version}`,
    kind: 'HorizontalPodAutoscaler',
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 3,
      ...(version === 'v1'
        ? { targetCPUUtilizationPercentage: 80 }
        : { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] }),
    },
  });

test.serial('a v2 rule judges a v1 request as v2 under Equivalent, not under Exact', async (t) => {
  for (const ns of ['equivalent', 'exact']) await c.ok(['create', 'namespace', ns]);
  await c.ok(['create', '-f', '-'], {
    input: [policy('equivalent', 'Equivalent'), binding('equivalent', 'equivalent'), policy('exact', 'Exact'), binding('exact', 'exact')]
      .map((o) => JSON.stringify(o))
      .join('\n---\n'),
  });
  const viaV1 = await until('the Equivalent policy to judge a v1 request', async () => {
    const r = await c.kubectl(['create', '-n', 'equivalent', '-f', '-'], { input: hpa('v1', `h-${Date.now()}`) });
    return r.code !== 0 ? r : undefined;
  });
  t.regex(viaV1.stderr, /ValidatingAdmissionPolicy 'equivalent' with binding 'equivalent' denied request: as v2 from v1: autoscaling\/v2/);
  // Exact: the v2 request is judged, the v1 request is not
  const v2 = await until('the Exact policy to judge a v2 request', async () => {
    const r = await c.kubectl(['create', '-n', 'exact', '-f', '-'], { input: hpa('v2', `h-${Date.now()}`) });
    return r.code !== 0 ? r : undefined;
  });
  t.regex(v2.stderr, /denied request: as v2 from v2: autoscaling\/v2/);
  await c.ok(['create', '-n', 'exact', '-f', '-'], { input: hpa('v1', 'through-v1') });
  await c.ok(['delete', 'validatingadmissionpolicybinding', 'equivalent', 'exact']);
  await c.ok(['delete', 'validatingadmissionpolicy', 'equivalent', 'exact']);
});

test.serial('a validating webhook with a v2 rule gets a v1 request as v2 under Equivalent, not under Exact', async (t) => {
  const webhook = (name: string, matchPolicy: string, path: string) => ({
    name: `${name}.example.com`,
    clientConfig: { url: hook.url(path), caBundle: hook.caBundle },
    rules: [{ operations: ['CREATE'], apiGroups: ['autoscaling'], apiVersions: ['v2'], resources: ['horizontalpodautoscalers'] }],
    matchPolicy,
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hooked' } },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
  });
  await c.ok(['create', 'namespace', 'hooked']);
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'hpa-v2' },
      webhooks: [webhook('equivalent', 'Equivalent', '/allow'), webhook('exact', 'Exact', '/exact')],
    }),
  });
  // the exact hook's path answers 404: were it called, the create would fail (failurePolicy Fail)
  const review = await until('the Equivalent webhook to be called for a v1 request', async () => {
    await c.ok(['create', '-n', 'hooked', '-f', '-'], { input: hpa('v1', `h-${Date.now()}`) });
    return hook.received('/allow').at(-1);
  });
  t.deepEqual(review.request.kind, { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' });
  t.deepEqual(review.request.resource, { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' });
  t.deepEqual(review.request.requestKind, { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' });
  t.is(review.request.object.apiVersion, 'autoscaling/v2');
  t.is(review.request.object.spec.metrics[0].resource.target.averageUtilization, 80, 'the v1 target as a v2 metric');
  t.deepEqual(hook.received('/exact'), []);
  await c.ok(['delete', 'validatingwebhookconfiguration', 'hpa-v2']);
});
