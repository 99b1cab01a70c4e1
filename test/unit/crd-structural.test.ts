// Structural-schema handling of custom objects (pure): validation messages as kube-openapi words
// them, pruning, defaulting, Go regexp flags, and CRD validation of junctors.
import test from 'ava';
import { applyDefaults, goRegExp, prune, validateValue } from '../../agents/control-plane/apiserver/crd/structural.ts';
import { validateSchema } from '../../agents/control-plane/apiserver/crd/validate-crd.ts';
import type { JSONSchemaProps } from '../../agents/control-plane/apiserver/crd/types.ts';
import { fieldErrorString } from '../../agents/control-plane/apiserver/validation/field.ts';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 4 },
        replicas: { type: 'integer', format: 'int32', maximum: 10, exclusiveMaximum: true, default: 1 },
        when: { type: 'string', format: 'date-time' },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 2, 'x-kubernetes-list-type': 'set' },
        port: { 'x-kubernetes-int-or-string': true },
        opt: { type: 'string', nullable: true },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      },
    },
  },
};

const messages = (v: unknown) => validateValue(v, schema, '').map(fieldErrorString);

test('violations name the field in upstream wording', (t) => {
  t.deepEqual(messages({ spec: { name: 'x', replicas: 'two' } }), [
    'spec.name: Invalid value: "x": spec.name in body should be at least 2 chars long',
    'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  ]);
  t.deepEqual(messages({ spec: { name: 'abcde', replicas: 10, when: 'noon', tags: ['a', 'a', 'b'], port: 1.5, opt: null } }), [
    'spec.name: Too long: may not be more than 4 bytes',
    'spec.replicas: Invalid value: 10: spec.replicas in body should be less than 10',
    'spec.when: Invalid value: "noon": spec.when in body must be of type date-time: "noon"',
    'spec.tags: Too many: 3: must have at most 2 items',
    'spec.tags[1]: Duplicate value: "a"',
    'spec.port: Invalid value: "number": spec.port in body must be of type integer,string: "number"',
  ]);
  t.deepEqual(messages({ spec: {} }), ['spec.name: Required value']);
  t.deepEqual(messages({ spec: { name: 'ok', port: '80', when: '2024-01-02T03:04:05Z' } }), []);
});

test('pruning drops unknown fields but keeps ObjectMeta and preserved subtrees; defaults fill gaps', (t) => {
  const o = {
    apiVersion: 'x/v1',
    kind: 'K',
    metadata: { name: 'n', labels: { a: 'b' } },
    spec: { name: 'ab', junk: 1, free: { any: { thing: 1 } } },
    top: true,
  };
  t.deepEqual(prune(o, schema), ['spec.junk', 'top']);
  applyDefaults(o, schema);
  t.deepEqual(o, {
    apiVersion: 'x/v1',
    kind: 'K',
    metadata: { name: 'n', labels: { a: 'b' } },
    spec: { name: 'ab', replicas: 1, free: { any: { thing: 1 } } },
  });
});

test('Go inline flags in patterns', (t) => {
  t.true(goRegExp('^(?i)(abort|warn)?$')!.test('ABORT'));
  t.is(goRegExp('(unclosed'), undefined);
});

test('junctors may not carry types, except the int-or-string anyOf', (t) => {
  const errs = (s: JSONSchemaProps) => validateSchema(s, 'schema', 1).map(fieldErrorString);
  t.deepEqual(errs({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] }), []);
  t.deepEqual(errs({ type: 'string', anyOf: [{ type: 'string' }] }), ['schema.anyOf[0].type: Forbidden: must be empty to be structural']);
});
