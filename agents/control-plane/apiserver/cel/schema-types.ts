// The CEL type of a built-in resource, from the kept models' schema (schema.ts), as upstream's
// SchemaDeclType makes it from the resource's OpenAPI schema: integers are int, numbers double,
// date-time strings timestamp, int-or-string and free-form values dyn, string maps map(string, V),
// arrays list(T), and each model an object type whose unknown fields are undefined.
import { modelFields, type TypeRef } from '../schema.ts';
import { type CelType, type Scalar, T } from './typecheck.ts';

/** schema leaves and their CEL types (int-or-string and free-form values are dyn) */
const LEAVES: Partial<Record<TypeRef['t'], Scalar>> = {
  string: 'string',
  quantity: 'string',
  number: 'double',
  integer: 'int',
  boolean: 'bool',
  date: 'timestamp',
  bytes: 'bytes',
};

function fromRef(ref: TypeRef): CelType {
  if (ref.t === 'array') return { k: 'list', elem: fromRef(ref.items) };
  if (ref.t === 'map') return { k: 'map', key: T('string'), value: fromRef(ref.values) };
  if (ref.t === 'object') return modelType(ref.name) ?? T('dyn');
  return T(LEAVES[ref.t] ?? 'dyn');
}

/** The object type of a model (e.g. V1Deployment), undefined for a model the kept package lacks. */
export function modelType(model: string): CelType | undefined {
  const fields = modelFields(model);
  if (!fields) return undefined;
  return {
    k: 'object',
    name: model,
    field: (name) => {
      const f = fields.get(name);
      return f && fromRef(f.type);
    },
  };
}
