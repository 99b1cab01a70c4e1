// Field errors in the form upstream's field.Error prints them: "<path>: <Type text>: <value>: <detail>".

export type FieldErrorType = 'Required' | 'Invalid' | 'NotSupported' | 'Duplicate' | 'Forbidden' | 'TooLong' | 'TooMany' | 'NotFound' | 'TypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail?: string;
}

const TEXT: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  Duplicate: 'Duplicate value',
  Forbidden: 'Forbidden',
  TooLong: 'Too long',
  TooMany: 'Too many',
  NotFound: 'Not found',
  TypeInvalid: 'Invalid value',
};

// types whose text carries the offending value
const WITH_VALUE = new Set<FieldErrorType>(['Invalid', 'NotSupported', 'Duplicate', 'NotFound', 'TypeInvalid', 'TooMany']);

/** Go's %#v-ish rendering of a value: strings quoted, numbers and booleans bare. */
export function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(v);
}

export function fieldErrorBody(e: FieldError): string {
  let s = TEXT[e.type];
  if (WITH_VALUE.has(e.type)) s += `: ${renderValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function fieldErrorString(e: FieldError): string {
  return `${e.field}: ${fieldErrorBody(e)}`;
}

export const required = (field: string, detail?: string): FieldError => ({ type: 'Required', field, detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'Invalid', field, value, detail });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'Duplicate', field, value });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'Forbidden', field, detail });
export const notFoundField = (field: string, value: unknown): FieldError => ({ type: 'NotFound', field, value });
/** upstream's ValidateImmutableField: an Invalid "field is immutable" when next differs from old (deep, as JSON). */
export function immutableField(field: string, next: unknown, old: unknown): FieldError[] {
  return JSON.stringify(next ?? null) === JSON.stringify(old ?? null) ? [] : [invalid(field, next, 'field is immutable')];
}
export const tooLong = (field: string, max: number): FieldError => ({ type: 'TooLong', field, detail: `may not be more than ${max} bytes` });
export function notSupported(field: string, value: unknown, valid: string[]): FieldError {
  return { type: 'NotSupported', field, value, detail: `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` };
}
