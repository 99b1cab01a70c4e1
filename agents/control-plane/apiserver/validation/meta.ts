// ObjectMeta validation shared by every resource (upstream ValidateObjectMeta and its update twin).
import type { NameRule } from '../registry.ts';
import { type FieldError, forbidden, invalid, required } from './field.ts';
import { NAME_RULES, labelValue, qualifiedName } from './names.ts';

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

export interface Meta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: { apiVersion?: string; kind?: string; name?: string; uid?: string }[];
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  resourceVersion?: string;
  generation?: number;
  deletionGracePeriodSeconds?: number;
  managedFields?: object[];
  [k: string]: unknown;
}

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of qualifiedName(k)) errs.push(invalid(path, k, m));
    for (const m of labelValue(String(v))) errs.push(invalid(path, v, m));
  }
  return errs;
}

export function validateName(name: string, rule: NameRule, path: string): FieldError[] {
  return NAME_RULES[rule](name).map((m) => invalid(path, name, m));
}

export function validateObjectMeta(meta: Meta | undefined, namespaced: boolean, rule: NameRule): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName && !m.name) {
    // the prefix only has to become a valid name once the random suffix is added
    const probe = m.generateName.replace(/-$/, '') + (m.generateName.endsWith('-') ? '-x' : 'x');
    for (const msg of NAME_RULES[rule](probe)) errs.push(invalid('metadata.generateName', m.generateName, msg));
  }
  if (!m.name) {
    if (!m.generateName) errs.push(required('metadata.name', 'name or generateName is required'));
  } else errs.push(...validateName(m.name, rule, 'metadata.name'));
  if (namespaced) {
    if (!m.namespace) errs.push(required('metadata.namespace'));
    else errs.push(...validateName(m.namespace, 'label', 'metadata.namespace'));
  } else if (m.namespace) errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  let size = 0;
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    for (const msg of qualifiedName(k.toLowerCase())) errs.push(invalid('metadata.annotations', k, msg));
    size += k.length + String(v).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE) errs.push({ type: 'TooLong', field: 'metadata.annotations', detail: `must have at most ${TOTAL_ANNOTATION_SIZE} bytes` });
  (m.finalizers ?? []).forEach((f, i) => {
    for (const msg of qualifiedName(f)) errs.push(invalid(`metadata.finalizers[${i}]`, f, msg));
  });
  (m.ownerReferences ?? []).forEach((o, i) => {
    const p = `metadata.ownerReferences[${i}]`;
    if (!o.apiVersion) errs.push(invalid(`${p}.apiVersion`, o.apiVersion ?? '', 'version must not be empty'));
    if (!o.kind) errs.push(invalid(`${p}.kind`, o.kind ?? '', 'kind must not be empty'));
    if (!o.name) errs.push(invalid(`${p}.name`, o.name ?? '', 'name must not be empty'));
    if (!o.uid) errs.push(invalid(`${p}.uid`, o.uid ?? '', 'uid must not be empty'));
  });
  return errs;
}

export function validateObjectMetaUpdate(next: Meta, old: Meta): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    if ((next[f] ?? '') !== (old[f] ?? '')) errs.push(invalid(`metadata.${f}`, next[f] ?? '', 'field is immutable'));
  }
  return errs;
}
