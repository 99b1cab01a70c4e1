// A webhook's matchConditions (CEL), as upstream's matchconditions.Matcher: evaluated after its
// rules and selectors matched, over object, oldObject (null when absent) and request (the
// AdmissionRequest the webhook would receive); any false skips the webhook, all true calls it, and
// errors (with none false) follow failurePolicy: Fail refuses the request with a 403, Ignore skips.
// The authorizer variable is not offered (compiling an expression that reads it fails).
import { type CelInput, isCelError } from '@bufbuild/cel';
import { compile, type Compiled } from '../cel/compile.ts';
import { COST_EXCEEDED, costBound, PER_CALL_LIMIT } from '../cel/cost.ts';
import { measure, type Size, toCel } from '../cel/value.ts';
import { type FieldError, invalid, required, duplicate } from '../validation/field.ts';
import type { Webhook } from './types.ts';

export const MATCH_VARS = ['object', 'oldObject', 'request'];
const MAX_CONDITIONS = 64;

type Condition = NonNullable<Webhook['matchConditions']>[number];

/** Write-time checks of a webhook's matchConditions, at upstream's paths and with its wording. */
export function validateMatchConditions(conds: Condition[] | undefined, path: string, vars: readonly string[] = MATCH_VARS): FieldError[] {
  const errs: FieldError[] = [];
  if (!conds) return errs;
  if (conds.length > MAX_CONDITIONS) errs.push({ type: 'TooMany', field: path, value: conds.length, detail: `must have at most ${MAX_CONDITIONS} items` });
  const names = new Set<string>();
  conds.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!c.name) errs.push(required(`${p}.name`, ''));
    else if (names.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
    else if (!/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(c.name) || c.name.length > 63)
      errs.push(
        invalid(
          `${p}.name`,
          c.name,
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
      );
    if (c.name) names.add(c.name);
    if (!c.expression) errs.push(required(`${p}.expression`, ''));
    else {
      const r = compile(c.expression, vars);
      if (!r.ok) errs.push(invalid(`${p}.expression`, c.expression, `compilation failed: ${r.error}`));
    }
  });
  return errs;
}

const compiled = new WeakMap<Condition[], (Compiled | string)[]>();

function programs(conds: Condition[], varNames: readonly string[]): (Compiled | string)[] {
  let out = compiled.get(conds);
  if (!out) {
    out = conds.map((c) => {
      const r = compile(c.expression ?? '', varNames);
      return r.ok ? r.compiled : r.error;
    });
    compiled.set(conds, out);
  }
  return out;
}

export type MatchOutcome = { call: boolean; error?: undefined } | { call: false; error: string };

/**
 * Whether the conditions all hold for vars (CEL values of varNames); error: they could not be
 * decided and failurePolicy is Fail. Shared by webhooks and ValidatingAdmissionPolicies.
 */
export function evaluateConditions(
  conds: Condition[] | undefined,
  failurePolicy: string | undefined,
  vars: Record<string, CelInput>,
  varNames: readonly string[],
  size: Size,
): MatchOutcome {
  if (!conds?.length) return { call: true };
  const errors: string[] = [];
  for (const p of programs(conds, varNames)) {
    if (typeof p === 'string') {
      errors.push(p);
      continue;
    }
    if (costBound(p, size) > PER_CALL_LIMIT) {
      errors.push(`expression '${p.source}' resulted in error: ${COST_EXCEEDED}`);
      continue;
    }
    const r = p.run(vars);
    if (r === false) return { call: false };
    if (isCelError(r)) errors.push(`expression '${p.source}' resulted in error: ${r.message}`);
    else if (r !== true) errors.push(`expression '${p.source}' resulted in error: no such overload`);
  }
  if (!errors.length) return { call: true };
  if (failurePolicy === 'Ignore') return { call: false };
  return { call: false, error: errors.length === 1 ? errors[0] : `[${errors.join(', ')}]` };
}

/** Whether webhook h is called for this request. */
export function evaluateMatchConditions(h: Webhook, object: unknown, oldObject: unknown, request: unknown): MatchOutcome {
  if (!h.matchConditions?.length) return { call: true };
  const vars: Record<string, CelInput> = {
    object: toCel(object ?? null, undefined),
    oldObject: toCel(oldObject ?? null, undefined),
    request: toCel(request, undefined),
  };
  return evaluateConditions(h.matchConditions, h.failurePolicy, vars, MATCH_VARS, measure({ object, oldObject, request }));
}
