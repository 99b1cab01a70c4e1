// Duplicate-field detection for fieldValidation (apiserver/duplicates.ts): JSON at any depth, YAML with its line.
import test from 'ava';
import { duplicateFields, jsonDuplicates, yamlDuplicates } from '../../agents/control-plane/apiserver/duplicates.ts';

test('duplicate JSON fields are named at any depth, not inside strings or arrays of scalars', (t) => {
  t.deepEqual(jsonDuplicates('{"spec":{"replicas":1,"replicas":2}}'), ['json: duplicate field "replicas"']);
  t.deepEqual(jsonDuplicates('{"a":{"b":1,"c":[{"b":2},"x\\"b"],"b":3},"a":2}'), ['json: duplicate field "b"', 'json: duplicate field "a"']);
  t.deepEqual(jsonDuplicates('{"a":["a","a"],"b":{"a":1}}'), []);
  t.deepEqual(duplicateFields(Buffer.from('{"x":1,"x":1}'), 'application/json'), ['json: duplicate field "x"']);
});

test('duplicate YAML keys carry their line', (t) => {
  t.deepEqual(yamlDuplicates('kind: Deployment\nspec:\n  replicas: 1\n  replicas: 2\n'), ['line 4: key "replicas" already set in map']);
  t.deepEqual(yamlDuplicates('a: 1\nb: {a: 2}\n'), []);
});
