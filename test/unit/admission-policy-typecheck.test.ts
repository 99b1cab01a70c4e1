// Type checking of ValidatingAdmissionPolicy expressions (admission/policy-typecheck.ts, cel/typecheck.ts)
// against the matched kinds' schemas, with cel-go's wording and layout as upstream's status shows it.
import test from 'ava';
import { typeCheckPolicy } from '../../agents/control-plane/apiserver/admission/policy-typecheck.ts';
import type { ValidatingAdmissionPolicy } from '../../agents/control-plane/apiserver/admission/policy-types.ts';

const deployments = { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE'] };
const policy = (
  validations: { expression: string; messageExpression?: string }[],
  o: { rules?: (typeof deployments)[]; variables?: { name: string; expression: string }[] } = {},
): ValidatingAdmissionPolicy => ({
  metadata: { name: 'p' },
  spec: { matchConstraints: { resourceRules: o.rules ?? [deployments] }, validations, variables: o.variables },
});

test('a well-typed policy has no warnings', (t) => {
  t.deepEqual(typeCheckPolicy(policy([{ expression: 'object.spec.replicas > 1' }])), []);
  t.deepEqual(
    typeCheckPolicy(
      policy([
        { expression: "object.metadata.name.startsWith('a') && object.spec.template.spec.containers.all(c, c.image != '')" },
        { expression: "has(object.metadata.labels) && 'app' in object.metadata.labels && object.metadata.labels['app'] == 'x'" },
        {
          expression: 'object.spec.replicas + 1 > 1.5 && size(object.spec.template.spec.containers) >= 1',
          messageExpression: "'got ' + string(object.spec.replicas)",
        },
      ]),
    ),
    [],
  );
});

test("upstream's type confusion: int > string and string + int, each at its expression with the caret under the operator", (t) => {
  const w = typeCheckPolicy(policy([{ expression: "object.spec.replicas > '1'", messageExpression: "'wants replicas > 1, got ' + object.spec.replicas" }]));
  t.deepEqual(w, [
    {
      fieldRef: 'spec.validations[0].expression',
      warning:
        "apps/v1, Kind=Deployment: ERROR: <input>:1:22: found no matching overload for '_>_' applied to '(int, string)'\n | object.spec.replicas > '1'\n | .....................^\n",
    },
    {
      fieldRef: 'spec.validations[0].messageExpression',
      warning:
        "apps/v1, Kind=Deployment: ERROR: <input>:1:28: found no matching overload for '_+_' applied to '(string, int)'\n | 'wants replicas > 1, got ' + object.spec.replicas\n | ...........................^\n",
    },
  ]);
});

test('an undefined field, variables typed in order, one warning per matched kind', (t) => {
  const [w] = typeCheckPolicy(policy([{ expression: 'object.spec.replica > 1' }]));
  t.regex(w.warning, /ERROR: <input>:1:12: undefined field 'replica'/);
  const vars = [
    { name: 'replicas', expression: 'object.spec.replicas' },
    { name: 'odd', expression: 'variables.replicas % 2 == 1' },
  ];
  t.deepEqual(typeCheckPolicy(policy([{ expression: 'variables.odd' }], { variables: vars })), []);
  t.regex(typeCheckPolicy(policy([{ expression: "variables.replicas == 'x'" }], { variables: vars }))[0].warning, /'_==_' applied to '\(int, string\)'/);
  const both = typeCheckPolicy(
    policy([{ expression: "object.spec.replicas == 'x'" }], { rules: [{ ...deployments, resources: ['replicasets', 'deployments', '*'] }] }),
  );
  t.is(both.length, 1);
  t.regex(both[0].warning, /^apps\/v1, Kind=Deployment: ERROR.*\n.*\n.*\^\n\napps\/v1, Kind=ReplicaSet: ERROR/);
  t.deepEqual(
    typeCheckPolicy(policy([{ expression: "object.spec.replicas == 'x'" }], { rules: [{ ...deployments, apiGroups: ['*'] }] })),
    [],
    'wildcard groups are not checked',
  );
});
