// x-kubernetes-validations: the CEL rules of a structural schema evaluated against a custom object
// (and, on update, its old value), as upstream's apiextensions cel.Validator: every rule of every
// node with a value, self typed by the schema, oldSelf the correlated old value (maps by key,
// list-type=map lists by their keys) and transition rules (those reading oldSelf) skipped where
// there is none; a false rule is a field error at the node (plus fieldPath) with its message,
// messageExpression or "failed rule: <rule>", typed by reason; evaluation errors name the rule.
// Compiling (at CRD write) lives here too so the two agree on the variables and library.
import { type CelInput, isCelError } from '@bufbuild/cel';
import { compile, type Compiled } from '../cel/compile.ts';
import { COST_EXCEEDED, costBound, PER_CALL_LIMIT, RUNTIME_BUDGET } from '../cel/cost.ts';
import { measure, type Size, toCel } from '../cel/value.ts';
import { duplicate, type FieldError, forbidden, invalid, required } from '../validation/field.ts';
import type { JSONSchemaProps } from './types.ts';

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

const REASONS = ['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'];
const RULE_VARS = ['self', 'oldSelf'];
/** upstream's celconfig.MaxEvaluatedMessageExpressionSizeBytes */
const MAX_MESSAGE = 5 * 1024;

interface CompiledRule {
  rule: ValidationRule;
  program?: Compiled;
  message?: Compiled;
  error?: string;
}

const cache = new WeakMap<JSONSchemaProps, CompiledRule[]>();

function rulesOf(s: JSONSchemaProps): ValidationRule[] {
  const xs = s['x-kubernetes-validations'];
  return Array.isArray(xs) ? (xs as ValidationRule[]) : [];
}

function compiledRules(s: JSONSchemaProps): CompiledRule[] {
  let out = cache.get(s);
  if (!out) {
    out = rulesOf(s).map((rule): CompiledRule => {
      const r = compile(rule.rule ?? '', RULE_VARS);
      if (!r.ok) return { rule, error: r.error };
      const m = rule.messageExpression ? compile(rule.messageExpression, ['self', 'oldSelf']) : undefined;
      return { rule, program: r.compiled, ...(m?.ok ? { message: m.compiled } : {}) };
    });
    cache.set(s, out);
  }
  return out;
}

const trim = (s: string) => s.trim();
const ruleText = (r: ValidationRule) => (r.message ? trim(r.message) : trim(r.rule));
const messageOrDefault = (r: ValidationRule) => (r.message ? trim(r.message) : `failed rule: ${ruleText(r)}`);

/** the schema type upstream prints as the Invalid value ("object", "string", ...) */
const typeOf = (s: JSONSchemaProps) => s.type ?? (s['x-kubernetes-int-or-string'] ? 'integer-or-string' : '');

/** A rule's fieldPath (".spec.x", "['a.b']") as a field path under base; undefined when invalid. */
export function ruleFieldPath(fieldPath: string, s: JSONSchemaProps): { path: string[]; schema: JSONSchemaProps } | undefined {
  const parts: string[] = [];
  let cur: JSONSchemaProps | undefined = s;
  const re = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/y;
  let m: RegExpExecArray | null;
  let at = 0;
  let n = 0;
  while (at < fieldPath.length && n++ < 1000) {
    re.lastIndex = at;
    m = re.exec(fieldPath);
    if (!m || !cur) return undefined;
    const key: string = m[1] ?? m[2].replace(/\\(.)/g, '$1');
    if (cur.properties) {
      cur = cur.properties[key];
      parts.push(m[1] !== undefined ? `.${key}` : `[${key}]`);
    } else if (typeof cur.additionalProperties === 'object') {
      cur = cur.additionalProperties;
      parts.push(`[${key}]`);
    } else return undefined;
    if (!cur) return undefined;
    at = re.lastIndex;
  }
  return at === fieldPath.length && fieldPath.length > 0 ? { path: parts, schema: cur! } : undefined;
}

/** Compile errors of the rules on one schema node, at upstream's paths, for CRD validation. */
export function validateRuleDefinitions(s: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  rulesOf(s).forEach((rule, i) => {
    const p = `${path}.x-kubernetes-validations[${i}]`;
    if (!rule || typeof rule !== 'object') return void errs.push(invalid(p, rule, 'must be an object'));
    if (!rule.rule || !trim(rule.rule)) errs.push(required(`${p}.rule`, 'rule is not specified'));
    else {
      const c = compile(rule.rule, RULE_VARS);
      if (!c.ok) errs.push(invalid(`${p}.rule`, rule.rule, `compilation failed: ${c.error}`));
    }
    if (rule.message !== undefined) {
      if (!trim(rule.message)) errs.push(required(`${p}.message`, 'message must be non-empty if specified'));
      else if (rule.message.length > 2048) errs.push(invalid(`${p}.message`, rule.message.slice(0, 10), 'must have a maximum length of 2048'));
      else if (/\n/.test(rule.message)) errs.push(invalid(`${p}.message`, rule.message, 'must not contain line breaks'));
    }
    if (rule.messageExpression !== undefined) {
      if (!trim(rule.messageExpression)) errs.push(required(`${p}.messageExpression`, 'messageExpression must be non-empty if specified'));
      else {
        const c = compile(rule.messageExpression, RULE_VARS);
        if (!c.ok) errs.push(invalid(`${p}.messageExpression`, rule.messageExpression, `messageExpression compilation failed: ${c.error}`));
      }
    }
    if (rule.reason !== undefined && !REASONS.includes(rule.reason))
      errs.push({
        type: 'NotSupported',
        field: `${p}.reason`,
        value: rule.reason,
        detail: `supported values: ${REASONS.map((r) => JSON.stringify(r)).join(', ')}`,
      });
    if (rule.fieldPath !== undefined && !ruleFieldPath(rule.fieldPath, s))
      errs.push(invalid(`${p}.fieldPath`, rule.fieldPath, `fieldPath must be a valid path`));
  });
  return errs;
}

interface Run {
  budget: number;
  size: Size;
  errs: FieldError[];
}

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

function fieldError(path: string, s: JSONSchemaProps, detail: string, reason: string | undefined): FieldError {
  if (reason === 'FieldValueForbidden') return forbidden(path, detail);
  if (reason === 'FieldValueRequired') return required(path, detail);
  if (reason === 'FieldValueDuplicate') return duplicate(path, typeOf(s));
  return invalid(path, typeOf(s), detail);
}

function evalMessage(c: Compiled, vars: Record<string, CelInput>, run: Run): string | undefined {
  const cost = costBound(c, run.size);
  if (cost > PER_CALL_LIMIT || cost > run.budget) return undefined;
  run.budget -= cost;
  const v = c.run(vars);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t && t.length <= MAX_MESSAGE && !t.includes('\n') ? t : undefined;
}

/** Evaluates the rules on node s for value v (old: the correlated old value, if any); false stops the walk. */
function evalNode(v: unknown, old: unknown, s: JSONSchemaProps, path: string, run: Run, root: boolean): boolean {
  const rules = compiledRules(s);
  if (!rules.length) return true;
  const where = path || '<nil>';
  // the resource root shows apiVersion, kind and metadata.name/generateName only
  const schema: JSONSchemaProps = root
    ? {
        ...s,
        properties: {
          ...s.properties,
          apiVersion: { type: 'string' },
          kind: { type: 'string' },
          metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
        },
      }
    : s;
  const self = toCel(v, schema);
  const vars: Record<string, CelInput> = old === undefined ? { self } : { self, oldSelf: toCel(old, schema) };
  for (const { rule, program, message, error } of rules) {
    if (error) {
      run.errs.push(invalid(where, typeOf(s), `rule compile error: ${error}`));
      continue;
    }
    if (!program) continue;
    // transition rules run only where an old value exists
    if (program.uses.has('oldSelf') && old === undefined) continue;
    const cost = costBound(program, run.size);
    if (cost > PER_CALL_LIMIT) {
      run.errs.push(
        invalid(where, typeOf(s), `'${COST_EXCEEDED}': no further validation rules will be run due to call cost exceeds limit for rule: ${ruleText(rule)}`),
      );
      return false;
    }
    if (cost > run.budget) {
      run.errs.push(invalid(where, typeOf(s), 'validation failed due to running out of cost budget, no further validation rules will be run'));
      return false;
    }
    run.budget -= cost;
    const r = program.run(vars);
    if (isCelError(r)) {
      const msg = r.message;
      if (/^(no such overload|found no matching overload)/.test(msg))
        run.errs.push(
          invalid(where, typeOf(s), `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText(rule)}`),
        );
      else run.errs.push(invalid(where, typeOf(s), `${msg} evaluating rule: ${ruleText(rule)}`));
      continue;
    }
    if (r === true) continue;
    let at = path;
    if (rule.fieldPath) {
      const fp = ruleFieldPath(rule.fieldPath, s);
      if (fp) at = fp.path.reduce((p, part) => (part.startsWith('.') ? join(p, part.slice(1)) : `${p}${part}`), path);
    }
    const detail = (message && evalMessage(message, vars, run)) ?? messageOrDefault(rule);
    run.errs.push(fieldError(at || '<nil>', s, detail, rule.reason));
  }
  return true;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(v: unknown, old: unknown, s: JSONSchemaProps | undefined, path: string, run: Run, root: boolean, depth: number): boolean {
  if (!s || v === null || v === undefined || depth > 1000) return true;
  if (!evalNode(v, old, s, path, run, root)) return false;
  for (const sub of s.allOf ?? []) if (!walk(v, old, sub, path, run, false, depth + 1)) return false;
  if (Array.isArray(v)) {
    const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
    const olds = Array.isArray(old) && keys ? old.filter(isObject) : [];
    const oldFor = (x: unknown) => (keys && isObject(x) ? olds.find((o) => keys.every((k) => JSON.stringify(o[k]) === JSON.stringify(x[k]))) : undefined);
    for (let i = 0; i < v.length; i++) if (!walk(v[i], oldFor(v[i]), s.items, `${path}[${i}]`, run, false, depth + 1)) return false;
    return true;
  }
  if (!isObject(v)) return true;
  const oldMap = isObject(old) ? old : undefined;
  for (const [k, x] of Object.entries(v)) {
    if (root && k === 'metadata') continue;
    const p = s.properties?.[k];
    if (p) {
      if (!walk(x, oldMap?.[k], p, join(path, k), run, false, depth + 1)) return false;
    } else if (typeof s.additionalProperties === 'object') {
      if (!walk(x, oldMap?.[k], s.additionalProperties, `${path}[${k}]`, run, false, depth + 1)) return false;
    }
  }
  return true;
}

/** Whether any node of the schema has rules (so objects of schemas without any skip the walk). */
export function hasRules(s: JSONSchemaProps | undefined, depth = 0): boolean {
  if (!s || typeof s !== 'object' || depth > 1000) return false;
  if (rulesOf(s).length) return true;
  if (Object.values(s.properties ?? {}).some((p) => hasRules(p, depth + 1))) return true;
  if (typeof s.additionalProperties === 'object' && hasRules(s.additionalProperties, depth + 1)) return true;
  return hasRules(s.items, depth + 1) || (s.allOf ?? []).some((p) => hasRules(p, depth + 1));
}

/** The rule violations of obj (old: the stored object on update) against the version's schema. */
export function validateRules(obj: unknown, old: unknown, s: JSONSchemaProps): FieldError[] {
  const size = measure(obj);
  if (old !== undefined) {
    const o = measure(old);
    size.collection = Math.max(size.collection, o.collection);
    size.string = Math.max(size.string, o.string);
  }
  const run: Run = { budget: RUNTIME_BUDGET, size, errs: [] };
  walk(obj, old, s, '', run, true, 0);
  return run.errs;
}
