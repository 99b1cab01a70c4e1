// The strategy of one served version of a custom resource, built from its CRD: pruning, defaulting
// (on write and on read from storage), structural-schema validation, selectable fields,
// additionalPrinterColumns, x-kubernetes-validations (CEL) on create and update (status included),
// and storage in the storage version (conversion None rewrites apiVersion; Webhook asks the
// CRD's conversion webhook on every read and write in another version).
import type { Convert } from '../crd/conversion.ts';
import { evaluate } from '../crd/jsonpath.ts';
import { applyDefaults, prune, validateValue } from '../crd/structural.ts';
import type { CRD, CRDVersion, JSONSchemaProps, PrinterColumn } from '../crd/types.ts';
import { hasRules, validateRules } from '../crd/validation-rules.ts';
import { age, AGE_COLUMN, type Column, NAME_COLUMN, type TableSpec } from '../tables/table.ts';
import { type FieldError, invalid } from '../validation/field.ts';
import type { Obj, Strategy } from './types.ts';

const COLUMN_TYPES: Column['type'][] = ['string', 'integer', 'number', 'boolean', 'date'];

function cell(o: Obj, c: PrinterColumn, now: Date): unknown {
  const vs = evaluate(o, c.jsonPath);
  if (!vs.length) return null;
  const v = vs.length === 1 ? vs[0] : vs;
  // a date prints as its age, as upstream's table convertor does
  if (c.type === 'date') return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? age(v, now) : v;
  if (c.type === 'string' && typeof v !== 'string')
    return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(',') : JSON.stringify(v);
  return v;
}

/** NAME, the version's printer columns (AGE when it has none), as upstream's table convertor. */
export function customTable(v: CRDVersion): TableSpec {
  const extra: PrinterColumn[] = v.additionalPrinterColumns?.length
    ? v.additionalPrinterColumns
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: AGE_COLUMN.description }];
  return {
    columns: [
      NAME_COLUMN,
      ...extra.map(
        (c): Column => ({
          name: c.name,
          type: COLUMN_TYPES.includes(c.type as Column['type']) ? (c.type as Column['type']) : 'string',
          ...(c.format ? { format: c.format } : {}),
          description: c.description ?? '',
          priority: c.priority ?? 0,
        }),
      ),
    ],
    row: (o, now) => [o.metadata.name, ...extra.map((c) => cell(o, c, now))],
  };
}

/** `convert`: the CRD's conversion webhook (strategy Webhook); without it, conversion None. */
export function customStrategy(crd: CRD, v: CRDVersion, convert?: Convert): Strategy {
  const schema = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const storage = crd.spec.versions.find((x) => x.storage)?.name ?? v.name;
  const storageApiVersion = `${crd.spec.group}/${storage}`;
  const apiVersion = `${crd.spec.group}/${v.name}`;
  const hasStatus = !!v.subresources?.status;
  const selectable = (v.selectableFields ?? []).map((f) => f.jsonPath);
  const rules = hasRules(schema);
  const structural = (o: Obj) => {
    const { metadata: _m, ...rest } = o;
    return validateValue({ ...rest, apiVersion, metadata: {} }, { ...schema, properties: { ...schema.properties, metadata: { type: 'object' } } }, '');
  };
  return {
    defaults(o) {
      prune(o, schema);
      applyDefaults(o, schema);
      // None: the stored object is the request's with the storage apiVersion
      if (!convert) o.apiVersion = storageApiVersion;
    },
    prepareForCreate(o) {
      if (hasStatus) delete o.status;
    },
    // with rules, the schema is checked where the old object is known, before the rules (withRules)
    ...(rules ? {} : { validate: structural }),
    ...(rules
      ? {
          validateCreate: (o: Obj) => withRules(structural(o), () => validateRules(o, undefined, schema)),
          validateUpdate: (next: Obj, old: Obj) => withRules(structural(next), () => validateRules(next, old, schema)),
        }
      : {}),
    ...(selectable.length
      ? {
          selectableFields: (o: Obj) =>
            Object.fromEntries(
              selectable.map((p) => {
                const x = evaluate(o, p)[0];
                return [p.replace(/^\./, ''), x === undefined || x === null ? '' : String(x)];
              }),
            ),
        }
      : {}),
    table: customTable(v),
    // the storage version without defaults reads stored objects as they are (lists and watches
    // then send the stored texts without decoding them), unless objects may still be stored in a
    // former storage version (status.storedVersions), whose apiVersion is rewritten on read
    ...(convert
      ? {
          async convertFromStorage(objs: Obj[]) {
            const out = await convert(objs, apiVersion);
            for (const o of out) applyDefaults(o, schema);
            return out;
          },
          convertToStorage: async (o: Obj) => (await convert([o], storageApiVersion))[0],
        }
      : v.name !== storage || hasDefaults(schema) || (crd.status?.storedVersions ?? []).some((s) => s !== v.name)
        ? {
            fromStorage(o: Obj) {
              o.apiVersion = apiVersion;
              applyDefaults(o, schema);
            },
          }
        : {}),
  };
}

/**
 * Schema errors, then the CEL rules unless one of those errors is blocking (upstream's
 * hasBlockingErr: a wrong type, a missing, unsupported, too long or too many value), when the rules
 * are not run and one error says so.
 */
function withRules(errs: FieldError[], rules: () => FieldError[]): FieldError[] {
  const blocking = errs.some(
    (e) =>
      ['NotSupported', 'Required', 'TooLong', 'TooMany', 'TypeInvalid'].includes(e.type) ||
      (e.type === 'Invalid' && / in body must be of type /.test(e.detail ?? '')),
  );
  if (blocking)
    return [
      ...errs,
      invalid('<nil>', 'null', 'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation'),
    ];
  return [...errs, ...rules()];
}

/** Whether any node of the schema declares a default (bounded by the schema's own depth). */
function hasDefaults(s: JSONSchemaProps | undefined): boolean {
  if (!s || typeof s !== 'object') return false;
  if (s.default !== undefined) return true;
  if (Object.values(s.properties ?? {}).some(hasDefaults)) return true;
  if (typeof s.additionalProperties === 'object' && hasDefaults(s.additionalProperties)) return true;
  return hasDefaults(s.items);
}
