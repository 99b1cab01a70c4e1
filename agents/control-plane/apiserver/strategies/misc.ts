// Small types: ConfigMaps, Secrets, ServiceAccounts, Leases, Endpoints, EndpointSlices (Events: events.ts).
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, invalid, required } from '../validation/field.ts';
import { configMapKey } from '../validation/names.ts';
import type { Obj, Strategy } from './types.ts';
import { setOwn } from '../safe-keys.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;

function validateDataKeys(o: Obj, fields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const seen = new Set<string>();
  for (const f of fields) {
    for (const [k, v] of Object.entries((o[f] ?? {}) as Record<string, string>)) {
      for (const m of configMapKey(k)) errs.push(invalid(`${f}[${k}]`, k, m));
      if (seen.has(k)) errs.push(invalid(`${f}[${k}]`, k, 'duplicate of key present in another data field'));
      seen.add(k);
      total += String(v).length;
    }
  }
  if (total > MAX_CONFIG_BYTES) errs.push({ type: 'TooLong', field: '', detail: `must have at most ${MAX_CONFIG_BYTES} bytes` });
  return errs;
}

function immutable(next: Obj, old: Obj, fields: string[]): FieldError[] {
  if (!old.immutable) return [];
  const errs: FieldError[] = [];
  if (!next.immutable) errs.push({ type: 'Forbidden', field: 'immutable', detail: 'field is immutable when `immutable` is set' });
  for (const f of fields)
    if (JSON.stringify(next[f] ?? {}) !== JSON.stringify(old[f] ?? {}))
      errs.push({ type: 'Forbidden', field: f, detail: 'field is immutable when `immutable` is set' });
  return errs;
}

const count = (o: object | undefined) => Object.keys(o ?? {}).length;

export const configMapStrategy: Strategy = {
  validate: (o) => validateDataKeys(o, ['data', 'binaryData']),
  validateUpdate: (n, o) => immutable(n, o, ['data', 'binaryData']),
  table: {
    columns: [NAME_COLUMN, col('Data', 'Number of data entries', 0, 'integer'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, count(o.data) + count(o.binaryData), age(o.metadata.creationTimestamp, now)],
  },
};

export const secretStrategy: Strategy = {
  defaults(o) {
    o.type ??= 'Opaque';
    // stringData is write-only: fold it into data (base64) as upstream does
    if (o.stringData) {
      o.data = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData as Record<string, string>)) setOwn(o.data, k, Buffer.from(String(v)).toString('base64'));
      delete o.stringData;
    }
  },
  validate(o) {
    const errs = validateDataKeys(o, ['data']);
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) errs.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
    }
    if (o.type === 'kubernetes.io/service-account-token' && !o.metadata.annotations?.['kubernetes.io/service-account.name'])
      errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
    return errs;
  },
  validateUpdate(n, o) {
    const errs = immutable(n, o, ['data']);
    if (n.type !== o.type) errs.push(invalid('type', n.type, 'field is immutable'));
    return errs;
  },
  selectableFields: (o) => ({ type: o.type ?? '' }),
  table: {
    columns: [NAME_COLUMN, col('Type', 'The type of the secret'), col('Data', 'Number of data entries', 0, 'integer'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, o.type ?? 'Opaque', count(o.data), age(o.metadata.creationTimestamp, now)],
  },
};

export const serviceAccountStrategy: Strategy = {
  table: {
    columns: [
      NAME_COLUMN,
      col('Secrets', 'Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount', 0, 'integer'),
      AGE_COLUMN,
    ],
    row: (o, now) => [o.metadata.name, (o.secrets ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
};

export const leaseStrategy: Strategy = {
  validate(o) {
    const errs: FieldError[] = [];
    const d = o.spec?.leaseDurationSeconds;
    if (d !== undefined && d <= 0) errs.push(invalid('spec.leaseDurationSeconds', d, 'must be greater than 0'));
    const t = o.spec?.leaseTransitions;
    if (t !== undefined && t < 0) errs.push(invalid('spec.leaseTransitions', t, 'must be greater than or equal to 0'));
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, col('Holder', 'The holder of the lease'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, o.spec?.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)],
  },
};

function endpointsSummary(subsets: { addresses?: { ip: string }[]; ports?: { port: number }[] }[] = []): string {
  const all: string[] = [];
  for (const s of subsets) {
    for (const a of s.addresses ?? []) {
      if (!s.ports?.length) all.push(a.ip);
      for (const p of s.ports ?? []) all.push(`${a.ip}:${p.port}`);
    }
  }
  if (!all.length) return '<none>';
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

export const endpointsStrategy: Strategy = {
  table: {
    columns: [NAME_COLUMN, col('Endpoints', 'Endpoints of the service'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, endpointsSummary(o.subsets), age(o.metadata.creationTimestamp, now)],
  },
};

export const endpointSliceStrategy: Strategy = {
  validate(o) {
    const errs: FieldError[] = [];
    const types = ['IPv4', 'IPv6', 'FQDN'];
    if (!o.addressType) errs.push(required('addressType'));
    else if (!types.includes(o.addressType))
      errs.push({ type: 'NotSupported', field: 'addressType', value: o.addressType, detail: `supported values: ${types.map((t) => `"${t}"`).join(', ')}` });
    (o.endpoints ?? []).forEach((e: { addresses?: string[] }, i: number) => {
      if (!e.addresses?.length) errs.push(required(`endpoints[${i}].addresses`));
    });
    return errs;
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('AddressType', 'The IP protocol for this slice'),
      col('Ports', 'The ports in this slice'),
      col('Endpoints', 'The endpoints in this slice'),
      AGE_COLUMN,
    ],
    row(o, now) {
      const ports = (o.ports ?? []).map((p: { port?: number }) => (p.port === undefined ? '<unset>' : String(p.port)));
      const addrs = (o.endpoints ?? []).flatMap((e: { addresses?: string[] }) => e.addresses ?? []);
      const shown = addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',') || '<unset>';
      return [o.metadata.name, o.addressType ?? '', ports.join(',') || '<unset>', shown, age(o.metadata.creationTimestamp, now)];
    },
  },
};
