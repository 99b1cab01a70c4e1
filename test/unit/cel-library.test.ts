// The CEL pieces without a server: the Kubernetes library functions added to @bufbuild/cel, JSON
// typed by the schema (integers as ints, escaped property names), RE2 regex semantics, compile
// errors for unknown names, and the cost bound growing with comprehension nesting.
import test from 'ava';
import { isCelError } from '@bufbuild/cel';
import { compile } from '../../agents/control-plane/apiserver/cel/compile.ts';
import { costBound } from '../../agents/control-plane/apiserver/cel/cost.ts';
import { escapeProperty, measure, toCel } from '../../agents/control-plane/apiserver/cel/value.ts';

function run(expr: string, self: unknown = {}, schema = {}) {
  const c = compile(expr, ['self']);
  if (!c.ok) throw new Error(c.error);
  const r = c.compiled.run({ self: toCel(self, schema) });
  return isCelError(r) ? `ERR ${r.message}` : r;
}

test('Kubernetes list and string library functions', (t) => {
  t.is(run('[1, 2, 3].isSorted() && !["b", "a"].isSorted()'), true);
  t.is(run('[1, 2, 3].sum()'), 6n);
  t.is(run('[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3'), true);
  t.is(run('[1, 2, 1].indexOf(1) == 0 && [1, 2, 1].lastIndexOf(1) == 2 && [1].indexOf(5) == -1'), true);
  t.is(run('"ABC".lowerAscii() + "x".upperAscii()'), 'abcX');
  t.is(run('"a,b".split(",").size()'), 2n);
  t.is(run('isIP("10.0.0.1") && !isIP("10.0.0.256") && isCIDR("fd00::/8") && !isCIDR("10.0.0.0/33")'), true);
  t.is(run('isQuantity("500m") && isQuantity("1Gi") && !isQuantity("1 Gi")'), true);
  t.is(run('isURL("https://example.com/x") && !isURL("not a url")'), true);
});

test('regexes are RE2: flag groups and Unicode classes as Go reads them', (t) => {
  t.is(run('"ABC".matches("^(?i)abc$")'), true);
  t.is(run('"Ä".matches("^\\\\p{Lu}$")'), true);
  t.is(run('matches("v1.2.0", "v1.[0-3].\\\\d+") && !matches("v1.5.0", "v1.[0-3].\\\\d+")'), true, 'the global form');
});

test('values are typed by the schema; keywords and odd characters in names are escaped', (t) => {
  const schema = {
    type: 'object',
    properties: {
      n: { type: 'integer' },
      d: { type: 'number' },
      namespace: { type: 'string' },
      'x-y': { type: 'string' },
      m: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  t.is(run('type(self.n) == int && type(self.d) == double', { n: 3, d: 3 }, schema), true);
  t.is(run('self.__namespace__ + self.x__dash__y + self.m["a-b"]', { namespace: 'a', 'x-y': 'b', m: { 'a-b': 'c' } }, schema), 'abc');
  t.is(escapeProperty('a.b/c__d'), 'a__dot__b__slash__c__underscores__d');
  t.is(escapeProperty('1x'), undefined);
  t.regex(String(run('self.n / 0', { n: 1 }, schema)), /divide by zero/);
});

test('compile errors: syntax, unknown variables and functions', (t) => {
  const syntax = compile('self.a <', ['self']);
  t.false(syntax.ok);
  t.regex(syntax.ok ? '' : syntax.error, /^ERROR: <input>:1:/);
  const unknown = compile('other > 1', ['self']);
  t.deepEqual(unknown.ok ? '' : unknown.error, "ERROR: <input>: undeclared reference to 'other' (in container '')");
  const fn = compile('self.frobnicate()', ['self']);
  t.regex(fn.ok ? '' : fn.error, /undeclared reference to 'frobnicate'/);
  const ok = compile('self.all(x, self.exists(y, x == y)) && oldSelf == self', ['self', 'oldSelf']);
  t.true(ok.ok && ok.compiled.uses.has('oldSelf') && ok.compiled.loops === 2);
});

test('the cost bound grows with the largest collection to the power of the nesting', (t) => {
  const c = compile('self.all(a, self.all(b, a != b))', ['self']);
  if (!c.ok) return t.fail();
  const small = costBound(c.compiled, measure(['a', 'b']));
  const big = costBound(c.compiled, measure(Array.from({ length: 1000 }, (_, i) => `${i}`)));
  t.true(small < 1000);
  t.true(big > 1_000_000);
});
