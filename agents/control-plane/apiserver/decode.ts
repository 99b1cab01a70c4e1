// Typed decoding of request objects against the resource schema, honouring fieldValidation:
// Strict rejects unknown fields (400 "strict decoding error"), Warn reports them in Warning
// headers, Ignore drops them silently. Unknown fields are never stored.
import { badRequest } from './errors.ts';
import type { ResourceInfo } from './registry.ts';
import { conform } from './schema.ts';
import { prune } from './crd/structural.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(v: string | null): FieldValidation {
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw badRequest(`fieldValidation parameter unsupported: ${v}; supported values: Ignore, Strict, Warn`);
}

/**
 * Conforms obj to the resource's model in place and returns the warnings to send.
 * model defaults to the resource's own (pods/binding passes V1Binding).
 */
export function typedDecode(obj: Record<string, unknown>, res: ResourceInfo, mode: FieldValidation, model = res.model, kind = res.kind): string[] {
  const unknown = dropUnknown(obj, res, model, kind);
  if (!unknown.length || mode === 'Ignore') return [];
  const msgs = unknown.map((u) => `unknown field "${u}"`);
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${msgs.join(', ')}`);
  return msgs;
}

/** Conforms obj to the model in place (a 400 on a wrong JSON type); returns the paths of the unknown fields it dropped. */
export function dropUnknown(obj: Record<string, unknown>, res: ResourceInfo, model = res.model, kind = res.kind): string[] {
  // a custom resource's unknown fields are those its structural schema prunes
  const schema = res.custom && model === res.model ? res.custom.schema : undefined;
  const { unknown, typeError } = schema ? { unknown: prune(obj, schema), typeError: undefined } : conform(obj, model);
  if (typeError) throw badRequest(`${kind} in version "${res.version}" cannot be handled as a ${kind}: ${typeError}`);
  return unknown;
}

/** Duplicate-field messages (duplicates.ts) under fieldValidation: Strict refuses, Warn warns. */
export function checkDuplicates(dups: string[], mode: FieldValidation): string[] {
  if (!dups.length || mode === 'Ignore') return [];
  if (mode === 'Strict') throw badRequest(`strict decoding error: ${dups.join(', ')}`);
  return dups;
}
