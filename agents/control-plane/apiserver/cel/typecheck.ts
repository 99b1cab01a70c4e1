// A CEL type checker for what @bufbuild/cel leaves out (it plans untyped): infers each node's type
// from declared variable types (object types from a resource's schema, see schema-types.ts) and
// reports what cel-go's checker reports for them, in its wording and layout: `found no matching
// overload for '_>_' applied to '(int, string)'`, `undefined field 'x'`, each as
// `ERROR: <input>:<line>:<column>: ...` with the source line and a caret under the node. It covers
// the operators, indexing, field selection, literals and comprehensions (the macros); any other
// function yields dyn, so an expression is never refused for what this checker does not model.
// Used for ValidatingAdmissionPolicy status.typeChecking, which only warns.
import { parse } from '@bufbuild/cel';

/** the types without parameters ('error': a node that already failed, never reported twice) */
export type Scalar = 'dyn' | 'error' | 'int' | 'uint' | 'double' | 'bool' | 'string' | 'bytes' | 'null_type' | 'timestamp' | 'duration' | 'type';

export type CelType =
  | { k: Scalar }
  | { k: 'list'; elem: CelType }
  | { k: 'map'; key: CelType; value: CelType }
  | { k: 'object'; name: string; field(name: string): CelType | undefined };

type Expr = ReturnType<typeof parse>['expr'];
export const T = (k: Scalar): CelType => ({ k });
const DYN = T('dyn');
const ERR = T('error');
const BOOL = T('bool');
const INT = T('int');

/** cel-go's name for a type in its messages. */
export function typeName(t: CelType): string {
  switch (t.k) {
    case 'list':
      return `list(${typeName(t.elem)})`;
    case 'map':
      return `map(${typeName(t.key)}, ${typeName(t.value)})`;
    case 'object':
      return t.name;
    case 'timestamp':
      return 'google.protobuf.Timestamp';
    case 'duration':
      return 'google.protobuf.Duration';
    default:
      return t.k;
  }
}

const loose = (t: CelType) => t.k === 'dyn' || t.k === 'error';

/** Whether values of a and b may meet in one overload parameter (dyn meets anything; null any object/map/list). */
function unify(a: CelType, b: CelType): boolean {
  if (loose(a) || loose(b)) return true;
  if (a.k === 'null_type' || b.k === 'null_type')
    return a.k === b.k || ['object', 'map', 'list', 'timestamp', 'duration'].includes(a.k === 'null_type' ? b.k : a.k);
  if (a.k !== b.k) return false;
  if (a.k === 'list' && b.k === 'list') return unify(a.elem, b.elem);
  if (a.k === 'map' && b.k === 'map') return unify(a.key, b.key) && unify(a.value, b.value);
  if (a.k === 'object' && b.k === 'object') return a.name === b.name;
  return true;
}

const NUMERIC = new Set(['int', 'uint', 'double']);
const ORDERED = new Set(['int', 'uint', 'double', 'string', 'bytes', 'bool', 'timestamp', 'duration']);

/** The result of an operator over known argument types, undefined when no overload takes them. */
function operator(fn: string, args: CelType[]): CelType | undefined {
  const [a, b] = args;
  const same = (set: Set<string>) => a.k === b.k && set.has(a.k);
  switch (fn) {
    case '_<_':
    case '_<=_':
    case '_>_':
    case '_>=_':
      // kubernetes' CEL environments enable cross-type numeric comparisons
      return same(ORDERED) || (NUMERIC.has(a.k) && NUMERIC.has(b.k)) ? BOOL : undefined;
    case '_==_':
    case '_!=_':
      return unify(a, b) ? BOOL : undefined;
    case '_&&_':
    case '_||_':
      return a.k === 'bool' && b.k === 'bool' ? BOOL : undefined;
    case '!_':
      return a.k === 'bool' ? BOOL : undefined;
    case '-_':
      return a.k === 'int' || a.k === 'double' || a.k === 'duration' ? a : undefined;
    case '_+_':
      if (same(new Set(['int', 'uint', 'double', 'string', 'bytes', 'duration']))) return a;
      if (a.k === 'list' && b.k === 'list') return unify(a.elem, b.elem) ? a : undefined;
      if ((a.k === 'timestamp' && b.k === 'duration') || (a.k === 'duration' && b.k === 'timestamp')) return T('timestamp');
      return undefined;
    case '_-_':
      if (same(new Set(['int', 'uint', 'double', 'duration']))) return a;
      if (a.k === 'timestamp' && b.k === 'timestamp') return T('duration');
      if (a.k === 'timestamp' && b.k === 'duration') return a;
      return undefined;
    case '_*_':
    case '_/_':
      return same(NUMERIC) ? a : undefined;
    case '_%_':
      return same(new Set(['int', 'uint'])) ? a : undefined;
    case '_[_]':
      if (a.k === 'list') return b.k === 'int' || b.k === 'uint' ? a.elem : undefined;
      if (a.k === 'map') return unify(a.key, b) ? a.value : undefined;
      return undefined;
    case '@in':
      if (b.k === 'list') return unify(a, b.elem) ? BOOL : undefined;
      if (b.k === 'map') return unify(a, b.key) ? BOOL : undefined;
      return undefined;
    default:
      return DYN;
  }
}

/** functions whose result type does not depend on their arguments */
const RESULTS: Record<string, CelType> = {
  size: INT,
  int: INT,
  uint: T('uint'),
  double: T('double'),
  string: T('string'),
  bool: BOOL,
  bytes: T('bytes'),
  startsWith: BOOL,
  endsWith: BOOL,
  contains: BOOL,
  matches: BOOL,
  timestamp: T('timestamp'),
  duration: T('duration'),
  type: T('type'),
};

export interface TypeIssue {
  offset: number;
  message: string;
}

/** binary operators by cel-go's function name: the parser may place them at the whitespace before the symbol */
const SYMBOLS: Record<string, string> = {
  '_+_': '+',
  '_-_': '-',
  '_*_': '*',
  '_/_': '/',
  '_%_': '%',
  '_<_': '<',
  '_<=_': '<=',
  '_>_': '>',
  '_>=_': '>=',
  '_==_': '==',
  '_!=_': '!=',
  '_&&_': '&&',
  '_||_': '||',
  '@in': 'in',
};

class Checker {
  readonly issues: TypeIssue[] = [];
  constructor(
    private readonly source: string,
    private readonly positions: Record<string, number>,
  ) {}

  /** where cel-go puts a node: a binary operator at its symbol */
  private offset(e: Expr): number {
    let at = this.positions[String(e.id)] ?? 0;
    const sym = e.exprKind.case === 'callExpr' ? SYMBOLS[e.exprKind.value.function] : undefined;
    if (!sym) return at;
    const end = Math.min(this.source.length, at + 64);
    while (at < end && /\s/.test(this.source[at])) at++;
    return this.source.startsWith(sym, at) ? at : (this.positions[String(e.id)] ?? 0);
  }

  private fail(e: Expr, message: string): CelType {
    this.issues.push({ offset: this.offset(e), message });
    return ERR;
  }

  check(e: Expr | undefined, scope: Map<string, CelType>): CelType {
    if (!e) return DYN;
    const k = e.exprKind;
    switch (k.case) {
      case 'constExpr': {
        const c = k.value.constantKind.case;
        if (c === 'int64Value') return INT;
        if (c === 'uint64Value') return T('uint');
        if (c === 'doubleValue') return T('double');
        if (c === 'stringValue') return T('string');
        if (c === 'boolValue') return BOOL;
        if (c === 'bytesValue') return T('bytes');
        if (c === 'nullValue') return T('null_type');
        return DYN;
      }
      case 'identExpr':
        return scope.get(k.value.name) ?? DYN;
      case 'selectExpr': {
        const o = this.check(k.value.operand, scope);
        const f = k.value.field;
        let t: CelType;
        if (o.k === 'object') t = o.field(f) ?? this.fail(e, `undefined field '${f}'`);
        else if (o.k === 'map') t = o.value;
        else if (loose(o)) t = o;
        else t = this.fail(e, `type '${typeName(o)}' does not support field selection`);
        return k.value.testOnly ? BOOL : t;
      }
      case 'listExpr': {
        const ts = k.value.elements.map((x) => this.check(x, scope));
        const first = ts.find((x) => !loose(x));
        return { k: 'list', elem: first && ts.every((x) => loose(x) || (x.k === first.k && unify(x, first))) ? first : DYN };
      }
      case 'structExpr':
        for (const en of k.value.entries) {
          if (en.keyKind.case === 'mapKey') this.check(en.keyKind.value, scope);
          this.check(en.value, scope);
        }
        return { k: 'map', key: DYN, value: DYN };
      case 'comprehensionExpr': {
        const c = k.value;
        const range = this.check(c.iterRange, scope);
        const iter = range.k === 'list' ? range.elem : range.k === 'map' ? range.key : DYN;
        const inner = new Map(scope);
        inner.set(c.iterVar, iter);
        if (c.iterVar2) inner.set(c.iterVar2, range.k === 'list' ? INT : range.k === 'map' ? range.value : DYN);
        const accu = this.check(c.accuInit, scope);
        inner.set(c.accuVar, accu.k === 'list' ? { k: 'list', elem: DYN } : accu);
        this.check(c.loopCondition, inner);
        const step = this.check(c.loopStep, inner);
        inner.set(c.accuVar, loose(accu) || accu.k === 'list' ? step : accu);
        return this.check(c.result, inner);
      }
      case 'callExpr': {
        const call = k.value;
        const target = call.target ? this.check(call.target, scope) : undefined;
        const args = call.args.map((x) => this.check(x, scope));
        const all = target ? [target, ...args] : args;
        if (call.function === '_?_:_') {
          if (!loose(args[0]) && args[0].k !== 'bool')
            return this.fail(e, `found no matching overload for '_?_:_' applied to '(${all.map(typeName).join(', ')})'`);
          return unify(args[1], args[2]) && !loose(args[1]) ? args[1] : DYN;
        }
        if (/^[_@!-]/.test(call.function) && call.function !== '_?_:_') {
          if (all.some((x) => x.k === 'error')) return ERR;
          if (all.some((x) => x.k === 'dyn'))
            return call.function === '_[_]'
              ? DYN
              : (operator(
                  call.function,
                  all.map(() => DYN),
                ) ?? DYN);
          const r = operator(call.function, all);
          return r ?? this.fail(e, `found no matching overload for '${call.function}' applied to '(${all.map(typeName).join(', ')})'`);
        }
        return RESULTS[call.function] ?? DYN;
      }
      default:
        return DYN;
    }
  }
}

/** One checked issue as cel-go's Issues.String() renders it, with the source line and a caret. */
function render(source: string, i: TypeIssue): string {
  const before = source.slice(0, i.offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = i.offset - lineStart;
  const snippet = source.slice(lineStart).split('\n')[0].replaceAll('\t', ' ');
  return `ERROR: <input>:${line}:${column + 1}: ${i.message}\n | ${snippet}\n | ${'.'.repeat(column)}^`;
}

export interface TypeCheckResult {
  type: CelType;
  /** the issues rendered and joined as cel-go's, empty when it type-checks */
  issues: string;
}

/** Type-checks source with the given variable types (an unparsable source has no type issues to add: compile reports it). */
export function typeCheck(source: string, vars: Map<string, CelType>): TypeCheckResult {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch {
    return { type: DYN, issues: '' };
  }
  const positions: Record<string, number> = {};
  for (const [id, off] of Object.entries(parsed.sourceInfo?.positions ?? {})) positions[id] = Number(off);
  const c = new Checker(source, positions);
  const type = c.check(parsed.expr, vars);
  return { type, issues: c.issues.map((i) => render(source, i)).join('\n') };
}
