// Query and path parsing (request.ts, lifecycle.ts' continue tokens): every junk value is a 400 or
// a 422 with upstream's message, never a NaN that reaches storage.
import test from 'ava';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';
import { decodeContinue, encodeContinue } from '../../agents/control-plane/apiserver/lifecycle.ts';
import { parseIncludeObject, parseListParams, parseResourcePath, queryBool, unescapePath } from '../../agents/control-plane/apiserver/request.ts';

const q = (s: string) => new URLSearchParams(s);
const refused = (t: import('ava').ExecutionContext, fn: () => unknown, code: number, message: string) => {
  const e = t.throws(fn, { instanceOf: ApiError }) as ApiError;
  t.is(e.code, code, e.message);
  t.is(e.message, message);
};

test('integers parse as Go strconv.ParseInt base 10: junk, floats, 1e400 and overflow are 400', (t) => {
  t.is(parseListParams(q('limit=5'), false).limit, 5);
  t.is(parseListParams(q('limit=-1'), false).limit, -1);
  t.is(parseListParams(q('limit=%2B7&timeoutSeconds=30'), true).limit, 7);
  for (const bad of ['abc', '1.5', '1e400', '0x10', '', ' 5'])
    refused(t, () => parseListParams(q(`limit=${encodeURIComponent(bad)}`), false), 400, `strconv.ParseInt: parsing ${JSON.stringify(bad)}: invalid syntax`);
  refused(
    t,
    () => parseListParams(q('timeoutSeconds=99999999999999999999'), true),
    400,
    'strconv.ParseInt: parsing "99999999999999999999": value out of range',
  );
  refused(t, () => parseListParams(q('timeoutSeconds=abc'), true), 400, 'strconv.ParseInt: parsing "abc": invalid syntax');
});

test('resourceVersion parses as Go strconv.ParseUint base 10: "abc", "0x10", "-1" are 400', (t) => {
  t.is(parseListParams(q('resourceVersion=16&resourceVersionMatch=Exact'), false).resourceVersion, '16');
  for (const [rv, match] of [
    ['abc', 'Exact'],
    ['0x10', 'NotOlderThan'],
    ['-1', ''],
    ['1.5', 'Exact'],
  ])
    refused(
      t,
      () => parseListParams(q(`resourceVersion=${rv}&resourceVersionMatch=${match}`), false),
      400,
      `invalid resource version: resourceVersion: Invalid value: "${rv}": strconv.ParseUint: parsing "${rv}": invalid syntax`,
    );
  refused(
    t,
    () => parseListParams(q('resourceVersion=abc'), true),
    400,
    'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax',
  );
});

test('resourceVersionMatch is checked as upstream ValidateListOptions: 422 ListOptions', (t) => {
  refused(
    t,
    () => parseListParams(q('resourceVersion=5&resourceVersionMatch=bogus'), false),
    422,
    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "bogus": supported values: "Exact", "NotOlderThan", ""',
  );
  refused(
    t,
    () => parseListParams(q('resourceVersionMatch=Exact'), false),
    422,
    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
  );
  refused(
    t,
    () => parseListParams(q('resourceVersion=0&resourceVersionMatch=Exact'), false),
    422,
    'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
  );
  refused(t, () => parseListParams(q('resourceVersion=5&continue=x'), false), 400, 'specifying resource version is not allowed when using continue');
});

test('booleans convert as upstream parameter codec: only "0" and "false" (any case) are false', (t) => {
  for (const v of ['true', 'True', '1', 't', 'yes', '']) t.true(queryBool(q(`watch=${v}`), 'watch'), v);
  for (const v of ['false', 'FALSE', 'False', '0']) t.false(queryBool(q(`watch=${v}`), 'watch'), v);
  t.is(queryBool(q(''), 'watch'), undefined);
  t.is(parseResourcePath('GET', '/api/v1/pods', q('watch=True'))?.verb, 'watch');
  t.is(parseResourcePath('GET', '/api/v1/pods', q('watch=0'))?.verb, 'list');
});

test('path segments unescape as Go url.PathUnescape: a bad escape is 400, not a URIError', (t) => {
  t.is(unescapePath('a%2Fb'), 'a/b');
  t.is(unescapePath('%ff'), '\ufffd');
  refused(t, () => unescapePath('%zz'), 400, 'invalid URL escape "%zz"');
  refused(t, () => parseResourcePath('GET', '/api/v1/namespaces/a%/pods', q('')), 400, 'invalid URL escape "%"');
  refused(t, () => parseResourcePath('GET', '/api/v1/namespaces/%E0%A4%A/pods', q('')), 400, 'invalid URL escape "%A"');
});

test('continue tokens: forged, garbled or path-escaping tokens are 400 "invalid continue token"', (t) => {
  const tok = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  t.deepEqual(decodeContinue(encodeContinue(7, 'default/a')), { rv: 7, start: 'default/a' });
  const cases: [string, string][] = [
    ['!!!', 'illegal base64 data'],
    [tok({ v: 'other', rv: 5, start: 'a' }), 'server does not recognize this encoded version other'],
    [tok({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' }), 'incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    [tok({ v: 'meta.k8s.io/v1', rv: 1.5, start: 'a' }), 'incorrect encoded start resourceVersion (version meta.k8s.io/v1)'],
    [tok({ v: 'meta.k8s.io/v1', rv: 3, start: '' }), 'encoded start key empty (version meta.k8s.io/v1)'],
    [tok({ v: 'meta.k8s.io/v1', rv: 3, start: '../secrets/x' }), '../secrets/x'],
    [tok({ v: 'meta.k8s.io/v1', rv: 3, start: 'a//b' }), 'a//b'],
  ];
  for (const [token, why] of cases) refused(t, () => decodeContinue(token), 400, `invalid continue token: continue key is not valid: ${why}`);
});

test('includeObject: None, Metadata, Object; junk is a 400 only for a Table, as upstream', (t) => {
  t.is(parseIncludeObject(q(''), true), 'Metadata');
  t.is(parseIncludeObject(q('includeObject='), true), 'Metadata');
  t.is(parseIncludeObject(q('includeObject=None'), true), 'None');
  t.is(parseIncludeObject(q('includeObject=junk'), false), 'Metadata');
  refused(t, () => parseIncludeObject(q('includeObject=junk'), true), 400, 'unrecognized includeObject value: "junk"');
});
