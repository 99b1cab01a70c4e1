// x-kubernetes-validations (CEL) on custom resources through the real kubectl: a CRD's own rules
// with oldSelf (transition rules run on update only), messageExpression, reason, fieldPath, status
// and the root; a rule that does not compile refuses the CRD; the cost bound. Real projects' rules
// (Gateway API) are in apiserver-crd-real.test.ts.
import test from 'ava';
import { type Cluster, startCluster } from './_apiserver-kit.ts';

let c: Cluster;

test.before(async () => {
  c = await startCluster('sqlite');
});
test.after.always(async () => {
  await c?.close();
});

const widgets = (rules: string, extra = '') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.cel.example.com}
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-validations:
        - {rule: "self.metadata.name.startsWith('w-')", message: "name must start with w-"}
        properties:
          spec:
            type: object
${rules}
            properties:
              min: {type: integer}
              max: {type: integer}
              tags: {type: array, items: {type: string}}
              namespace: {type: string}
              ports: {type: object, additionalProperties: {type: integer}}
          status:
            type: object
            x-kubernetes-validations:
            - {rule: "self.ready <= 10", message: "at most 10 ready"}
            properties:
              ready: {type: integer}
${extra}`;

const SPEC_RULES = `            x-kubernetes-validations:
            - {rule: "self.min <= self.max", messageExpression: "'min ' + string(self.min) + ' exceeds max ' + string(self.max)", fieldPath: ".min"}
            - {rule: "!has(oldSelf.max) || self.max >= oldSelf.max", message: "max may not decrease", reason: FieldValueForbidden}
            - {rule: "self.tags.isSorted() && self.tags.all(t, t.lowerAscii() == t)", message: "tags must be sorted lower-case"}
            - {rule: "!has(self.__namespace__) || self.__namespace__.matches('^(?i)[a-z]+$')"}
            - {rule: "self.ports.all(k, self.ports[k] > 0)", reason: FieldValueRequired, message: "ports must be positive"}`;

test.serial('CRD rules: self, oldSelf, messageExpression, reason, fieldPath, status and the root', async (t) => {
  await c.ok(['apply', '-f', '-'], { input: widgets(SPEC_RULES) });
  await c.ok(['wait', '--for=condition=Established', 'crd/widgets.cel.example.com', '--timeout=20s']);
  const w = (name: string, spec: string) => `apiVersion: cel.example.com/v1\nkind: Widget\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
  const bad = await c.kubectl(['create', '-f', '-'], { input: w('w-1', '{min: 5, max: 3, tags: [b, a], namespace: "x1", ports: {http: 0}}') });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /\* spec.min: Invalid value: "object": min 5 exceeds max 3/);
  t.regex(bad.stderr, /\* spec: Invalid value: "object": tags must be sorted lower-case/);
  t.regex(bad.stderr, /\* spec: Invalid value: "object": failed rule: !has\(self.__namespace__\) \|\| self.__namespace__.matches\('\^\(\?i\)\[a-z\]\+\$'\)/);
  t.regex(bad.stderr, /\* spec: Required value: ports must be positive/);
  t.notRegex(bad.stderr, /max may not decrease/, 'a transition rule does not run on create');
  const typed = await c.kubectl(['create', '-f', '-'], { input: w('w-2', '{min: "five", max: 3, tags: [b, a], ports: {}}') });
  t.regex(typed.stderr, /spec.min: Invalid value: "string": spec.min in body must be of type integer: "string"/);
  t.regex(
    typed.stderr,
    /<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation/,
  );
  t.notRegex(typed.stderr, /tags must be sorted/);
  const root = await c.kubectl(['create', '-f', '-'], { input: w('x-1', '{min: 1, max: 3, tags: [a], ports: {}}') });
  t.regex(root.stderr, /The Widget "x-1" is invalid: <nil>: Invalid value: "object": name must start with w-/);
  await c.ok(['create', '-f', '-'], { input: w('w-1', '{min: 1, max: 3, tags: [a, b], namespace: Abc, ports: {http: 80}}') });
  const dec = await c.kubectl(['patch', 'widget', 'w-1', '--type=merge', '-p', '{"spec":{"max":2}}']);
  t.regex(dec.stderr, /The Widget "w-1" is invalid: spec: Forbidden: max may not decrease/);
  await c.ok(['patch', 'widget', 'w-1', '--type=merge', '-p', '{"spec":{"max":4}}']);
  const status = await c.kubectl(['patch', 'widget', 'w-1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":11}}']);
  t.regex(status.stderr, /status: Invalid value: "object": at most 10 ready/);
  await c.ok(['patch', 'widget', 'w-1', '--subresource=status', '--type=merge', '-p', '{"status":{"ready":3}}']);
  t.is(JSON.parse(await c.ok(['get', 'widget', 'w-1', '-o', 'json'])).spec.max, 4);
});

test.serial('a rule that does not compile or names an unknown variable refuses the CRD; nothing is stored', async (t) => {
  const bad = widgets(`            x-kubernetes-validations:
            - {rule: "self.min <"}
            - {rule: "other.min > 0"}
            - {rule: "self.min > 0", reason: Sometimes}`).replace(
    /widgets\.cel|plural: widgets|singular: widget|kind: Widget, listKind: WidgetList/g,
    (m) =>
      ({
        'widgets.cel': 'gadgets.cel',
        'plural: widgets': 'plural: gadgets',
        'singular: widget': 'singular: gadget',
        'kind: Widget, listKind: WidgetList': 'kind: Gadget, listKind: GadgetList',
      })[m]!,
  );
  const r = await c.kubectl(['create', '-f', '-'], { input: bad });
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].x-kubernetes-validations\[0\].rule: Invalid value: "self.min <": compilation failed: ERROR: <input>:1:\d+: /,
  );
  t.regex(r.stderr, /x-kubernetes-validations\[1\].rule: Invalid value: "other.min > 0": compilation failed: ERROR: <input>: undeclared reference to 'other'/);
  t.regex(
    r.stderr,
    /x-kubernetes-validations\[2\].reason: Unsupported value: "Sometimes": supported values: "FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"/,
  );
  t.is((await c.kubectl(['get', 'crd', 'gadgets.cel.example.com'])).code, 1);
});

test.serial('a rule whose cost bound exceeds the per-call limit is not run and says so', async (t) => {
  await c.ok(['apply', '-f', '-'], {
    input: widgets(`            x-kubernetes-validations:
            - {rule: "self.tags.all(a, self.tags.all(b, self.tags.all(c, a + b + c != '')))", message: "never"}`).replace(
      /widgets\.cel|plural: widgets|singular: widget|kind: Widget, listKind: WidgetList/g,
      (m) =>
        ({
          'widgets.cel': 'costs.cel',
          'plural: widgets': 'plural: costs',
          'singular: widget': 'singular: cost',
          'kind: Widget, listKind: WidgetList': 'kind: Cost, listKind: CostList',
        })[m]!,
    ),
  });
  await c.ok(['wait', '--for=condition=Established', 'crd/costs.cel.example.com', '--timeout=20s']);
  const tags = Array.from({ length: 200 }, (_, i) => `t${i}`);
  const r = await c.kubectl(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'cel.example.com/v1', kind: 'Cost', metadata: { name: 'w-big' }, spec: { tags } }),
  });
  t.regex(
    r.stderr,
    /spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: never/,
  );
  await c.ok(['create', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'cel.example.com/v1', kind: 'Cost', metadata: { name: 'w-small' }, spec: { tags: ['a', 'b'] } }),
  });
});
