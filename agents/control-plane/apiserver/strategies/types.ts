// A strategy holds what is specific to one resource type: defaulting, validation, selectable
// fields, printing and deletion behaviour. The generic machinery in crud.ts calls these hooks.
import type { FieldError } from '../validation/field.ts';
import type { Meta } from '../validation/meta.ts';
import type { TableSpec } from '../tables/table.ts';

export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  spec?: any;
  status?: any;
  [k: string]: any;
}

/** What a strategy may ask of the rest of the server (allocators reading other objects, clock). */
export interface StrategyContext {
  now(): Date;
  list(plural: string, group?: string): Promise<Obj[]>;
  serviceCIDR: string;
}

export interface Strategy {
  /** upstream SetDefaults_*: applied to every incoming object */
  defaults?(obj: Obj): void;
  /** create-only adjustments (reset status ...) */
  prepareForCreate?(obj: Obj): void;
  prepareForUpdate?(next: Obj, old: Obj): void;
  validate?(obj: Obj): FieldError[];
  /** rules only a creation must meet (besides validate) */
  validateCreate?(obj: Obj): FieldError[];
  /** subresource: the update came through it (status, ephemeralcontainers ...) */
  validateUpdate?(next: Obj, old: Obj, subresource?: string): FieldError[];
  /** runs just before the object is stored on create (allocations); may throw ApiError */
  beforeCreate?(obj: Obj, ctx: StrategyContext): Promise<void>;
  beforeUpdate?(next: Obj, old: Obj, ctx: StrategyContext): Promise<void>;
  /** fields usable in fieldSelector besides metadata.name and metadata.namespace */
  selectableFields?(obj: Obj): Record<string, string>;
  /** graceful deletion: seconds to wait, or 0 to delete now (absent: always immediate) */
  gracePeriod?(obj: Obj, requested: number | undefined): number;
  table?: TableSpec;
  /** read-side conversion of a stored object (custom resources: apiVersion of the request, defaults); idempotent */
  fromStorage?(obj: Obj): void;
  /** conversion through a webhook (custom resources, strategy Webhook): stored objects, in the versions they were written in, into the served one; after fromStorage */
  convertFromStorage?(objs: Obj[]): Promise<Obj[]>;
  /** and an object about to be written into the storage version */
  convertToStorage?(obj: Obj): Promise<Obj>;
  /** names that may not be deleted (default namespaces) */
  undeletable?(obj: Obj): string | undefined;
  /** finalizers kept outside metadata.finalizers (a namespace's spec.finalizers) */
  extraFinalizers?(obj: Obj): string[];
  /** adjustments when deletion starts but has to wait (a namespace turns Terminating) */
  prepareForDelete?(obj: Obj): void;
  /** a DELETE that removed the object answers with it, not a Status (upstream's ReturnDeletedObject) */
  returnDeletedObject?: boolean;
}

export function isoNow(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
