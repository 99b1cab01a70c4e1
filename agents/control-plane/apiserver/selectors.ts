// Label and field selectors: parsing of the query-string syntax and matching (pure).
// Labels: "a=b", "a==b", "a!=b", "a in (x,y)", "a notin (x)", "a", "!a", "a>1", "a<1", comma-joined.
// Fields: "f=v", "f==v", "f!=v", comma-joined, with backslash escapes.
// Keys are the client's: labels and fields are read as own properties only (safe-keys.ts).
import { getOwn, hasOwn } from './safe-keys.ts';

export type Op = 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

export class SelectorError extends Error {}

const KEY_RE = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(k: string, src: string): void {
  if (!KEY_RE.test(k) || k.length > 316) throw new SelectorError(`unable to parse requirement: invalid label key "${k}" in "${src}"`);
}
function checkValue(v: string, src: string): void {
  if (!VALUE_RE.test(v) || v.length > 63) throw new SelectorError(`unable to parse requirement: invalid label value: "${v}" in "${src}"`);
}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(src: string | undefined): Requirement[] {
  if (!src || !src.trim()) return [];
  const reqs: Requirement[] = [];
  for (const raw of splitTop(src)) {
    const part = raw.trim();
    if (!part) throw new SelectorError(`found '', expected: identifier in "${src}"`);
    let m: RegExpExecArray | null;
    if ((m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      const values = m[3].split(',').map((v) => v.trim());
      checkKey(m[1], src);
      values.forEach((v) => checkValue(v, src));
      reqs.push({ key: m[1], op: m[2] as Op, values });
    } else if ((m = /^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      checkKey(m[1], src);
      checkValue(m[3], src);
      reqs.push({ key: m[1], op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = /^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/.exec(part))) {
      checkKey(m[1], src);
      reqs.push({ key: m[1], op: m[2] === '>' ? 'gt' : 'lt', values: [m[3]] });
    } else if ((m = /^!\s*(\S+)$/.exec(part))) {
      checkKey(m[1], src);
      reqs.push({ key: m[1], op: '!', values: [] });
    } else if (/^\S+$/.test(part) && !/[=!()<>]/.test(part)) {
      checkKey(part, src);
      reqs.push({ key: part, op: 'exists', values: [] });
    } else throw new SelectorError(`unable to parse requirement: "${part}" in "${src}"`);
  }
  return reqs;
}

export function matchRequirement(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && hasOwn(labels, r.key);
  const v = has ? getOwn(labels!, r.key) : undefined;
  switch (r.op) {
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^-?\d+$/.test(v!)) return false;
      const n = Number(v);
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

export function matchLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  return reqs.every((r) => matchRequirement(r, labels));
}

/** metav1.LabelSelector (matchLabels + matchExpressions) as requirements. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const SELECTOR_OPS: Readonly<Record<string, Op>> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

export function fromLabelSelector(sel: LabelSelectorObject | undefined): Requirement[] {
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key: k, op: 'in', values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    const op = getOwn(SELECTOR_OPS, e.operator);
    if (!op) throw new SelectorError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    reqs.push({ key: e.key, op, values: e.values ?? [] });
  }
  return reqs;
}

// ---- field selectors ----

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Splits on an unescaped separator. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      out.push(cur);
      cur = '';
    } else cur += s[i];
  }
  out.push(cur);
  return out;
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

export function parseFieldSelector(src: string | undefined): FieldRequirement[] {
  if (!src || !src.trim()) return [];
  const reqs: FieldRequirement[] = [];
  for (const part of splitEscaped(src, ',')) {
    const p = part.trim();
    if (!p) continue;
    const m = /^((?:[^=!\\]|\\.)+?)\s*(==|=|!=)\s*((?:[^\\]|\\.)*)$/.exec(p);
    if (!m) throw new SelectorError(`invalid selector: '${p}'; can't understand '${p}'`);
    reqs.push({ field: unescape(m[1].trim()), op: m[2] === '!=' ? '!=' : '=', value: unescape(m[3]) });
  }
  return reqs;
}

export function matchFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => ((getOwn(fields, r.field) ?? '') === r.value) === (r.op === '='));
}
