// One CEL expression compiled once for a fixed set of variables: parsed by @bufbuild/cel, its
// references checked (an unknown variable or function is a compile error, as cel-go's checker says
// "undeclared reference to 'x'"), and measured for the cost bound (cost.ts). The library has no
// public type checker, so type errors against the schema surface at evaluation instead.
import { type CelEnv, type CelResult, type CelInput, CelScalar, celEnv, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { K8S_LIBRARY } from './k8s-library.ts';

type Expr = ReturnType<typeof parse>['expr'];

/** names CEL resolves without a declaration: type denotations */
const TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);
/** bounds the AST walk: upstream's parser refuses deeper nesting too (max recursion depth 250) */
const MAX_DEPTH = 250;

export interface Compiled {
  source: string;
  run(vars: Record<string, CelInput>): CelResult;
  /** the variables the expression reads */
  uses: Set<string>;
  /** AST nodes and comprehension nesting, for the cost bound */
  nodes: number;
  loops: number;
  /** whether it calls split(), whose result size is a string's length */
  splits: boolean;
}

export type CompileResult = { ok: true; compiled: Compiled } | { ok: false; error: string };

const envs = new Map<string, CelEnv>();

function envFor(vars: readonly string[]): CelEnv {
  const key = vars.join(',');
  let env = envs.get(key);
  if (!env) {
    env = celEnv({ funcs: [...strings, ...K8S_LIBRARY], variables: Object.fromEntries(vars.map((v) => [v, CelScalar.DYN])) });
    envs.set(key, env);
  }
  return env;
}

interface Walk {
  nodes: number;
  loops: number;
  splits: boolean;
  uses: Set<string>;
}

function walk(e: Expr | undefined, env: CelEnv, vars: ReadonlySet<string>, scope: ReadonlySet<string>, depth: number, w: Walk): string | undefined {
  if (!e) return undefined;
  if (depth > MAX_DEPTH) return 'max recursion depth exceeded';
  w.nodes++;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr': {
      const n = k.value.name;
      if (scope.has(n)) return undefined;
      if (vars.has(n)) {
        w.uses.add(n);
        return undefined;
      }
      if (TYPE_NAMES.has(n)) return undefined;
      return `undeclared reference to '${n}' (in container '')`;
    }
    case 'selectExpr':
      return walk(k.value.operand, env, vars, scope, depth + 1, w);
    case 'callExpr': {
      const f = k.value.function;
      if (f === 'split') w.splits = true;
      if (
        !/^[_@!]/.test(f) &&
        !env.funcs.find(f) &&
        !TYPE_NAMES.has(f) &&
        !['size', 'type', 'has', 'timestamp', 'duration', 'matches', 'contains', 'startsWith', 'endsWith', 'dyn'].includes(f)
      )
        return `undeclared reference to '${f}' (in container '')`;
      for (const a of [k.value.target, ...k.value.args]) {
        const err = walk(a, env, vars, scope, depth + 1, w);
        if (err) return err;
      }
      return undefined;
    }
    case 'listExpr':
      for (const a of k.value.elements) {
        const err = walk(a, env, vars, scope, depth + 1, w);
        if (err) return err;
      }
      return undefined;
    case 'structExpr':
      for (const en of k.value.entries) {
        const err =
          (en.keyKind.case === 'mapKey' ? walk(en.keyKind.value, env, vars, scope, depth + 1, w) : undefined) ?? walk(en.value, env, vars, scope, depth + 1, w);
        if (err) return err;
      }
      return undefined;
    case 'comprehensionExpr': {
      const c = k.value;
      const err = walk(c.iterRange, env, vars, scope, depth + 1, w) ?? walk(c.accuInit, env, vars, scope, depth + 1, w);
      if (err) return err;
      const inner = new Set([...scope, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      const sub: Walk = { nodes: 0, loops: 0, splits: false, uses: w.uses };
      const e2 =
        walk(c.loopCondition, env, vars, inner, depth + 1, sub) ??
        walk(c.loopStep, env, vars, inner, depth + 1, sub) ??
        walk(c.result, env, vars, inner, depth + 1, sub);
      if (e2) return e2;
      w.nodes += sub.nodes;
      w.loops = Math.max(w.loops, sub.loops + 1);
      w.splits ||= sub.splits;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Compiles source for the variables vars; the error reads as cel-go's "ERROR: <input>:..." issues. */
export function compile(source: string, vars: readonly string[]): CompileResult {
  const env = envFor(vars);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (e) {
    return { ok: false, error: `ERROR: ${(e as Error).message}` };
  }
  const w: Walk = { nodes: 0, loops: 0, splits: false, uses: new Set() };
  const err = walk(parsed.expr, env, new Set(vars), new Set(), 0, w);
  if (err) return { ok: false, error: `ERROR: <input>: ${err}` };
  const program = plan(env, parsed);
  return { ok: true, compiled: { source, run: (v) => program(v), uses: w.uses, nodes: w.nodes, loops: w.loops, splits: w.splits } };
}
