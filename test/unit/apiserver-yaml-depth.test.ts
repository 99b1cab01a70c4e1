// A YAML body's nesting is bounded before the YAML composer (which recurses per level) sees it:
// deep flow brackets, deep indentation and compact nested sequences are refused up front, with the
// error upstream gives; quoted brackets and ordinary manifests pass.
import test from 'ava';
import { decodeBody, MAX_DEPTH, yamlDepthBound } from '../../agents/control-plane/apiserver/body.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';

const deepFlow = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;

test('a bound at or above the real depth, whatever makes it', (t) => {
  t.true(yamlDepthBound(deepFlow) >= 20_000);
  t.true(yamlDepthBound(`x:\n${Array.from({ length: 50 }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')}\n`) >= 50, 'indentation');
  t.true(yamlDepthBound(`${'- '.repeat(40)}x\n`) >= 40, 'compact nested sequences');
});

test('brackets in quoted scalars and comments do not count; an apostrophe in a plain scalar hides nothing', (t) => {
  t.true(yamlDepthBound(`a: "${'['.repeat(5000)}"\nb: '${'{'.repeat(5000)}'\n# ${'['.repeat(5000)}\n`) < 5);
  t.true(yamlDepthBound(`a: it's\nb: ${'['.repeat(2000)}${']'.repeat(2000)}\n`) >= 2000);
});

test('an ordinary manifest is far within the limit and decodes', (t) => {
  const manifest =
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        args: ["--a=[x]", \'{y}\']\n';
  t.true(yamlDepthBound(manifest) < 20);
  t.like(decodeBody(Buffer.from(manifest), 'application/yaml'), { kind: 'Deployment', metadata: { name: 'web' } });
});

test('a deep document is the 400 upstream gives, before the composer runs', (t) => {
  const e = t.throws(() => decodeBody(Buffer.from(deepFlow), 'application/yaml'));
  t.true(e instanceof ApiError);
  t.is(e?.message, `error converting YAML to JSON: yaml: exceeded max depth of ${MAX_DEPTH}`);
});
