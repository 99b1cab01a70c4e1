// The integer formats of the OpenAPI schema (int32, int64), enforced as Go's typed JSON decoder
// does: a number that is not an integer, or does not fit the field's Go type, is refused while
// decoding ("cannot unmarshal number 1.5 into ... of type int32"), so such a value is never stored
// and no controller ever acts on a count past what a real cluster's types can hold.

export type IntFormat = 'int32' | 'int64';

const BOUNDS: Record<IntFormat, { min: number; max: number }> = {
  int32: { min: -(2 ** 31), max: 2 ** 31 - 1 },
  // doubles: 2^63-1 is not representable, and a stored 2^63 would break every Go client reading it
  int64: { min: -(2 ** 63), max: 2 ** 63 - 1024 },
};

export function isIntFormat(f: string): f is IntFormat {
  return f === 'int32' || f === 'int64';
}

/** Does v decode into a Go integer of this format? (Unknown formats are treated as int64.) */
export function fitsIntFormat(v: unknown, format: string): v is number {
  if (typeof v !== 'number' || !Number.isInteger(v)) return false;
  const b = BOUNDS[isIntFormat(format) ? format : 'int64'];
  return v >= b.min && v <= b.max;
}

/** The value part of Go's UnmarshalTypeError: "number 1.5", "string", "bool", "object", "array". */
export function jsonValueDescription(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return `number ${numberLiteral(v)}`;
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/** A number as a JSON literal (the request's own spelling is gone after parsing; Go echoes it). */
function numberLiteral(v: number): string {
  return String(v).replace('e+', 'e');
}
