// The Kubernetes CEL library functions real CRDs and policies use that @bufbuild/cel lacks
// (upstream: k8s.io/apiserver/pkg/cel/library): lists (isSorted, sum, min, max, indexOf,
// lastIndexOf), isURL, isIP, isCIDR, isQuantity. The string extensions (lowerAscii, upperAscii,
// indexOf, split, replace, trim, substring, join, format) and the method matches (RE2) come with the
// library; the global matches(string, pattern) form is added here on the same RE2 engine.
// Not here: the url(), ip(), cidr(), quantity() and format.* object types, regex find/findAll,
// authorizer, optional types (.?field), as @bufbuild/cel has no way to declare those types.
import { type CelFunc, type CelList, type CelValue, CelScalar, celMethod, celFunc, listType, isCelUint } from '@bufbuild/cel';
import { RE2JS } from '@bufbuild/re2';
import { isIP } from 'node:net';

const LIST = listType(CelScalar.DYN);

type Comparable = bigint | number | string | boolean;

function comparable(v: CelValue): Comparable {
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (isCelUint(v)) return v.value;
  throw new Error('no such overload');
}

function compare(a: CelValue, b: CelValue): number {
  const x = comparable(a);
  const y = comparable(b);
  if (typeof x !== typeof y && !(typeof x !== 'string' && typeof x !== 'boolean' && typeof y !== 'string' && typeof y !== 'boolean'))
    throw new Error('no such overload');
  return x < y ? -1 : x > y ? 1 : 0;
}

function values(l: CelList): CelValue[] {
  return [...l];
}

function equal(a: CelValue, b: CelValue): boolean {
  try {
    return compare(a, b) === 0;
  } catch {
    return false;
  }
}

function extreme(l: CelList, sign: number): CelValue {
  const vs = values(l);
  if (!vs.length) throw new Error('min called on empty list'.replace('min', sign < 0 ? 'min' : 'max'));
  return vs.reduce((m, v) => (compare(v, m) * sign > 0 ? v : m));
}

function sum(l: CelList): CelValue {
  const vs = values(l);
  if (!vs.length) return 0n;
  if (vs.every((v) => typeof v === 'bigint')) return (vs as bigint[]).reduce((a, b) => a + b, 0n);
  if (vs.every((v) => typeof v === 'number')) return (vs as number[]).reduce((a, b) => a + b, 0);
  throw new Error('no such overload');
}

const CIDR = (s: string) => {
  const [addr, bits, ...rest] = s.split('/');
  if (rest.length || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const v = isIP(addr);
  return v !== 0 && Number(bits) <= (v === 4 ? 32 : 128);
};
// resource.Quantity's grammar: a signed decimal with an optional exponent or suffix
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/;

export const K8S_LIBRARY: CelFunc[] = [
  celMethod('isSorted', LIST, [], CelScalar.BOOL, function () {
    const vs = values(this);
    for (let i = 1; i < vs.length; i++) if (compare(vs[i - 1], vs[i]) > 0) return false;
    return true;
  }),
  celMethod('sum', LIST, [], CelScalar.DYN, function () {
    return sum(this);
  }),
  celMethod('min', LIST, [], CelScalar.DYN, function () {
    return extreme(this, -1);
  }),
  celMethod('max', LIST, [], CelScalar.DYN, function () {
    return extreme(this, 1);
  }),
  celMethod('indexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    return BigInt(values(this).findIndex((v) => equal(v, x)));
  }),
  celMethod('lastIndexOf', LIST, [CelScalar.DYN], CelScalar.INT, function (x) {
    const vs = values(this);
    for (let i = vs.length - 1; i >= 0; i--) if (equal(vs[i], x)) return BigInt(i);
    return -1n;
  }),
  celFunc('isURL', [CelScalar.STRING], CelScalar.BOOL, (s) => {
    try {
      return new URL(s).protocol !== '' || s.startsWith('/');
    } catch {
      return s.startsWith('/');
    }
  }),
  celFunc('matches', [CelScalar.STRING, CelScalar.STRING], CelScalar.BOOL, (s, pattern) => RE2JS.compile(pattern).test(s)),
  celFunc('isIP', [CelScalar.STRING], CelScalar.BOOL, (s) => isIP(s) !== 0),
  celFunc('isCIDR', [CelScalar.STRING], CelScalar.BOOL, CIDR),
  celFunc('isQuantity', [CelScalar.STRING], CelScalar.BOOL, (s) => QUANTITY.test(s)),
];
