// Server-side printing: meta.k8s.io/v1 Table objects, the way kubectl get asks for them
// (Accept: application/json;as=Table;v=v1;g=meta.k8s.io). Columns with priority > 0 show with -o wide.
import type { Obj } from '../strategies/types.ts';

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  priority: number;
}

export interface TableSpec {
  columns: Column[];
  row(obj: Obj, now: Date): unknown[];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

const col = (name: string, description: string, priority = 0, type: Column['type'] = 'string', format?: string): Column => ({
  name,
  type,
  ...(format ? { format } : {}),
  description,
  priority,
});
export { col };

export const NAME_COLUMN = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
export const AGE_COLUMN = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** upstream duration.HumanDuration: 45s, 3m20s, 12m, 5h3m, 30h, 3d4h, 90d, 2y100d, 9y */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function age(ts: string | undefined, now: Date): string {
  if (!ts) return '<unknown>';
  return humanDuration(now.getTime() - new Date(ts).getTime());
}

/** The fallback for types without a printer: NAME and CREATED AT (as upstream's default table). */
export const DEFAULT_TABLE: TableSpec = {
  columns: [NAME_COLUMN, col('Created At', AGE_COLUMN.description, 0, 'date')],
  row: (o) => [o.metadata.name, o.metadata.creationTimestamp],
};

export function partialMetadata(o: Obj): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function buildTable(
  spec: TableSpec,
  objs: Obj[],
  o: { include: IncludeObject; now: Date; listMeta?: Record<string, unknown>; noHeaders?: boolean },
): Record<string, unknown> {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: o.listMeta ?? {},
    ...(o.noHeaders ? {} : { columnDefinitions: spec.columns }),
    rows: objs.map((obj) => ({
      cells: spec.row(obj, o.now),
      ...(o.include === 'None' ? {} : { object: o.include === 'Object' ? obj : partialMetadata(obj) }),
    })),
  };
}
