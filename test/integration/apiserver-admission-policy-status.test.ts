// ValidatingAdmissionPolicy status as upstream's status controller writes it: after each spec change
// status.observedGeneration follows metadata.generation and status.typeChecking holds the
// expressions that do not type-check against the matched kinds' schemas, with cel-go's wording
// (upstream e2e "should type check validation expressions"); conditions others wrote are kept.
import test from 'ava';
import { type Cluster, until } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

let c: Cluster;
fileCluster((cluster) => {
  c = cluster;
});

const policy = (name: string, expression: string, messageExpression?: string) =>
  JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      matchConstraints: { resourceRules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'] }] },
      validations: [{ expression, ...(messageExpression ? { messageExpression } : {}) }],
    },
  });

const checked = (name: string, generation: number) =>
  until(`${name}'s type check of generation ${generation}`, async () => {
    const p = JSON.parse(await c.ok(['get', 'validatingadmissionpolicy', name, '-o', 'json']));
    return p.status?.typeChecking && p.status.observedGeneration === generation ? p : undefined;
  });

test.serial("the status controller type-checks each generation: no warnings, then upstream's two for a confused policy", async (t) => {
  await c.ok(['create', '-f', '-'], { input: policy('correct', 'object.spec.replicas > 1') });
  const ok = await checked('correct', 1);
  t.deepEqual(ok.status.typeChecking, {}, 'typeChecking present and empty');

  await c.ok(['create', '-f', '-'], { input: policy('confused', "object.spec.replicas > '1'", "'wants replicas > 1, got ' + object.spec.replicas") });
  const confused = await checked('confused', 1);
  const w = confused.status.typeChecking.expressionWarnings;
  t.is(w.length, 2);
  t.is(w[0].fieldRef, 'spec.validations[0].expression');
  t.is(
    w[0].warning,
    "apps/v1, Kind=Deployment: ERROR: <input>:1:22: found no matching overload for '_>_' applied to '(int, string)'\n | object.spec.replicas > '1'\n | .....................^\n",
  );
  t.is(w[1].fieldRef, 'spec.validations[0].messageExpression');
  t.true(w[1].warning.includes("found no matching overload for '_+_' applied to '(string, int)'"));

  // a condition someone else set stays; fixing the expressions clears the warnings at generation 2
  await c.ok([
    'patch',
    'validatingadmissionpolicy',
    'confused',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"status":{"conditions":[{"type":"Mine","status":"True","reason":"Test","message":"kept","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}',
  ]);
  await c.ok([
    'patch',
    'validatingadmissionpolicy',
    'confused',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/validations/0","value":{"expression":"object.spec.replicas > 1"}}]',
  ]);
  const fixed = await checked('confused', 2);
  t.deepEqual(fixed.status.typeChecking, {});
  t.is(fixed.status.conditions?.[0]?.type, 'Mine');
  await c.ok(['delete', 'validatingadmissionpolicy', 'correct', 'confused']);
});
