// Static validation of an apiextensions.k8s.io/v1 CustomResourceDefinition, with upstream's field
// paths and wording (apiextensions validation.go and the structural-schema rules of
// apiserver/schema): names, group, scope, versions, subresources, printer columns and schemas.
import { dns1035Label, dns1123Subdomain } from '../validation/names.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from '../validation/field.ts';
import { validateReviewVersions, validateService, validateURL } from '../strategies/admissionregistration.ts';
import type { CRD, CRDConversion, CRDNames, CRDVersion, JSONSchemaProps } from './types.ts';
import { goRegExp } from './structural.ts';
import { validateRuleDefinitions } from './validation-rules.ts';

const APPROVAL = 'api-approved.kubernetes.io';
const PRINTER_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];
const SCHEMA_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const LIST_TYPES = ['atomic', 'set', 'map'];

export function validateNames(n: Partial<CRDNames>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const label = (field: string, v: string | undefined, lower = false) => {
    if (!v) return;
    const e = dns1035Label(lower ? v.toLowerCase() : v);
    if (e.length) errs.push(invalid(`${path}.${field}`, v, (lower ? 'may have mixed case, but should otherwise match: ' : '') + e.join(',')));
  };
  label('plural', n.plural);
  label('singular', n.singular);
  label('kind', n.kind, true);
  label('listKind', n.listKind, true);
  (n.shortNames ?? []).forEach((s, i) => label(`shortNames[${i}]`, s));
  if (n.kind && n.kind === n.listKind) errs.push(invalid(`${path}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  (n.categories ?? []).forEach((s, i) => label(`categories[${i}]`, s));
  return errs;
}

/** A path of the form .a.b.c (upstream validateSimpleJSONPath). */
function simpleJSONPath(p: string, field: string): FieldError[] {
  if (!/^(\.[A-Za-z0-9_-]+)+$/.test(p)) return [invalid(field, p, 'must be a simple json path starting with .')];
  return [];
}

function validateVersion(v: CRDVersion, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) errs.push(required(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else errs.push(...validateSchema(schema, `${path}.schema.openAPIV3Schema`, 0));
  const scale = v.subresources?.scale;
  if (scale) {
    const sp = `${path}.subresources.scale`;
    if (!scale.specReplicasPath) errs.push(required(`${sp}.specReplicasPath`, ''));
    else {
      const e = simpleJSONPath(scale.specReplicasPath, `${sp}.specReplicasPath`);
      errs.push(...e);
      if (!e.length && !scale.specReplicasPath.startsWith('.spec.'))
        errs.push(invalid(`${sp}.specReplicasPath`, scale.specReplicasPath, 'should be a json path under .spec'));
    }
    if (!scale.statusReplicasPath) errs.push(required(`${sp}.statusReplicasPath`, ''));
    else {
      const e = simpleJSONPath(scale.statusReplicasPath, `${sp}.statusReplicasPath`);
      errs.push(...e);
      if (!e.length && !scale.statusReplicasPath.startsWith('.status.'))
        errs.push(invalid(`${sp}.statusReplicasPath`, scale.statusReplicasPath, 'should be a json path under .status'));
    }
    if (scale.labelSelectorPath) {
      const e = simpleJSONPath(scale.labelSelectorPath, `${sp}.labelSelectorPath`);
      errs.push(...e);
      if (!e.length && !/^\.(spec|status)\./.test(scale.labelSelectorPath))
        errs.push(invalid(`${sp}.labelSelectorPath`, scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
    }
  }
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const cp = `${path}.additionalPrinterColumns[${i}]`;
    if (!c.name) errs.push(required(`${cp}.name`, ''));
    if (!c.type) errs.push(required(`${cp}.type`, ''));
    else if (!PRINTER_TYPES.includes(c.type)) errs.push(notSupported(`${cp}.type`, c.type, PRINTER_TYPES));
    if (!c.jsonPath) errs.push(required(`${cp}.jsonPath`, ''));
    if ((c.priority ?? 0) < 0) errs.push(invalid(`${cp}.priority`, c.priority, 'must be greater than or equal to 0'));
  });
  (v.selectableFields ?? []).forEach((f, i) => {
    if (!f.jsonPath) errs.push(required(`${path}.selectableFields[${i}].jsonPath`, ''));
    else errs.push(...simpleJSONPath(f.jsonPath, `${path}.selectableFields[${i}].jsonPath`));
  });
  return errs;
}

/** The OpenAPI and structural-schema rules on one schema node (lvl 0 is the root). */
export function validateSchema(s: JSONSchemaProps, path: string, lvl: number): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof s !== 'object' || s === null) return [invalid(path, s, 'must be an object')];
  for (const k of ['id', 'additionalItems', 'patternProperties', 'definitions', 'dependencies', '$ref'] as const) {
    if (s[k] !== undefined) errs.push(forbidden(`${path}.${k}`, `${k} is not supported`));
  }
  if (s.uniqueItems === true) errs.push(forbidden(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.type === 'null') errs.push(forbidden(`${path}.type`, 'type cannot be set to null'));
  else if (s.type && !SCHEMA_TYPES.includes(s.type)) errs.push(notSupported(`${path}.type`, s.type, SCHEMA_TYPES));
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (lvl === 0 && s.type && s.type !== 'object') errs.push(invalid(`${path}.type`, s.type, 'must be object at the root'));
  if (!s.type && !intOrString && (lvl === 0 || !preserve) && lvl >= 0)
    errs.push(required(`${path}.type`, lvl === 0 ? 'must not be empty at the root' : 'must not be empty for specified object fields'));
  if (intOrString && s.type) errs.push(invalid(`${path}.type`, s.type, 'must be empty if x-kubernetes-int-or-string is true'));
  if (embedded && s.type !== 'object') errs.push(invalid(`${path}.type`, s.type ?? '', 'must be object if x-kubernetes-embedded-resource is true'));
  if (s.type === 'array' && !s.items) errs.push(required(`${path}.items`, 'must be specified'));
  if (s.properties && s.additionalProperties !== undefined && s.additionalProperties !== true)
    errs.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  if (s.default !== undefined && lvl === 0) errs.push(forbidden(`${path}.default`, 'must not be set at the root'));
  const lt = s['x-kubernetes-list-type'];
  if (lt !== undefined) {
    if (!LIST_TYPES.includes(lt)) errs.push(notSupported(`${path}.x-kubernetes-list-type`, lt, LIST_TYPES));
    else if (s.type !== 'array') errs.push(invalid(`${path}.type`, s.type ?? '', 'must be array if x-kubernetes-list-type is specified'));
    if (lt === 'map' && !s['x-kubernetes-list-map-keys']?.length)
      errs.push(required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
  }
  if (s['x-kubernetes-list-map-keys'] !== undefined && lt !== 'map')
    errs.push(forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty if x-kubernetes-list-type is not map'));
  if (s.pattern !== undefined && !goRegExp(s.pattern)) errs.push(invalid(`${path}.pattern`, s.pattern, 'must be a valid regular expression'));
  if (lvl === 0 && s.properties?.metadata) {
    const m = s.properties.metadata;
    const extra = Object.keys(m.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
    if (extra.length || (m.type && m.type !== 'object'))
      errs.push(forbidden(`${path}.properties[metadata]`, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  errs.push(...validateRuleDefinitions(s, path));
  for (const [k, p] of Object.entries(s.properties ?? {})) errs.push(...validateSchema(p, `${path}.properties[${k}]`, lvl + 1));
  if (typeof s.additionalProperties === 'object') errs.push(...validateSchema(s.additionalProperties, `${path}.additionalProperties`, lvl + 1));
  if (s.items) {
    if (Array.isArray(s.items)) errs.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
    else errs.push(...validateSchema(s.items, `${path}.items`, lvl + 1));
  }
  // logic junctors may not declare types or other structure of their own (structural schema)
  // (an int-or-string's anyOf [{type: integer}, {type: string}] is the one allowed form with types)
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) (s[j] ?? []).forEach((x, i) => errs.push(...validateJunctor(x, `${path}.${j}[${i}]`, intOrString)));
  if (s.not) errs.push(...validateJunctor(s.not, `${path}.not`, false));
  return errs;
}

function validateJunctor(s: JSONSchemaProps, path: string, intOrString: boolean): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of ['type', 'additionalProperties', 'default', 'nullable', 'description', 'title'] as const) {
    if (k === 'type' && intOrString && (s.type === 'integer' || s.type === 'string')) continue;
    if (s[k] !== undefined) errs.push(forbidden(`${path}.${k}`, 'must be empty to be structural'));
  }
  for (const [k, p] of Object.entries(s.properties ?? {})) errs.push(...validateJunctor(p, `${path}.properties[${k}]`, false));
  if (s.items && !Array.isArray(s.items)) errs.push(...validateJunctor(s.items, `${path}.items`, false));
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) (s[j] ?? []).forEach((x, i) => errs.push(...validateJunctor(x, `${path}.${j}[${i}]`, intOrString)));
  return errs;
}

export function validateCRD(crd: CRD): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? ({} as CRD['spec']);
  const names = spec.names ?? ({} as CRDNames);
  if (crd.metadata.name && spec.group !== undefined && names.plural !== undefined && crd.metadata.name !== `${names.plural}.${spec.group}`)
    errs.push(invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
  if (!spec.group) errs.push(required('spec.group', ''));
  else {
    const e = dns1123Subdomain(spec.group);
    if (e.length) errs.push(invalid('spec.group', spec.group, e.join(',')));
    else if (!spec.group.includes('.')) errs.push(invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
    else if (/(^|\.)(k8s|kubernetes)\.io$/.test(spec.group) && !crd.metadata.annotations?.[APPROVAL])
      errs.push(
        required(
          `metadata.annotations[${APPROVAL}]`,
          `protected groups must have approval annotation "${APPROVAL}", see https://github.com/kubernetes/enhancements/pull/1111`,
        ),
      );
  }
  if (!spec.scope) errs.push(required('spec.scope', ''));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const versions = spec.versions ?? [];
  if (!versions.length) errs.push(required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  let storage = 0;
  let unique = true;
  versions.forEach((v, i) => {
    if (v.storage) storage++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const e = dns1035Label(v.name ?? '');
    if (e.length) errs.push(invalid(`spec.versions[${i}].name`, v.name, e.join(',')));
    errs.push(...validateVersion(v, `spec.versions[${i}]`));
  });
  if (!unique) errs.push(invalid('spec.versions', versions, 'must contain unique version names'));
  if (versions.length && storage !== 1) errs.push(invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
  if (versions.length && !versions.some((v) => v.served)) errs.push(invalid('spec.versions', versions, 'must have at least one version marked as served'));
  for (const f of ['plural', 'singular', 'kind', 'listKind'] as const) if (!names[f]) errs.push(required(`spec.names.${f}`, ''));
  errs.push(...validateNames(names, 'spec.names'));
  errs.push(...validateConversion(spec.conversion));
  if (spec.preserveUnknownFields === true)
    errs.push(
      invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'),
    );
  return errs;
}

/**
 * upstream's validateCustomResourceConversion, at its internal field paths (webhookClientConfig,
 * conversionReviewVersions directly under spec.conversion, as kubectl shows them).
 */
function validateConversion(c: CRDConversion | undefined): FieldError[] {
  if (!c) return [];
  const path = 'spec.conversion';
  const strategy = c.strategy ?? '';
  if (!strategy) return [required(`${path}.strategy`, '')];
  if (strategy !== 'None' && strategy !== 'Webhook') return [notSupported(`${path}.strategy`, strategy, ['None', 'Webhook'])];
  const cc = c.webhook?.clientConfig;
  if (strategy !== 'Webhook') {
    return [
      ...(cc ? [forbidden(`${path}.webhookClientConfig`, 'should not be set when strategy is not set to Webhook')] : []),
      ...(c.webhook?.conversionReviewVersions?.length
        ? [forbidden(`${path}.conversionReviewVersions`, 'should not be set when strategy is not set to Webhook')]
        : []),
    ];
  }
  const errs: FieldError[] = [];
  if (!cc) errs.push(required(`${path}.webhookClientConfig`, 'required when strategy is set to Webhook'));
  else if ((cc.url === undefined) === (cc.service === undefined))
    errs.push(required(`${path}.webhookClientConfig`, 'exactly one of url or service is required'));
  else if (cc.url !== undefined) errs.push(...validateURL(`${path}.webhookClientConfig.url`, cc.url));
  else if (cc.service) errs.push(...validateService(`${path}.webhookClientConfig.service`, cc.service));
  errs.push(...validateReviewVersions(c.webhook?.conversionReviewVersions, `${path}.conversionReviewVersions`, ''));
  return errs;
}

export function validateCRDUpdate(next: CRD, old: CRD): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (field: string, a: unknown, b: unknown) => {
    if (a !== b) errs.push(invalid(field, a, 'field is immutable'));
  };
  immutable('spec.group', next.spec?.group, old.spec?.group);
  immutable('spec.names.plural', next.spec?.names?.plural, old.spec?.names?.plural);
  if (old.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
    immutable('spec.scope', next.spec?.scope, old.spec?.scope);
    immutable('spec.names.kind', next.spec?.names?.kind, old.spec?.names?.kind);
  }
  const stored = next.status?.storedVersions ?? [];
  stored.forEach((v, i) => {
    if (!next.spec.versions?.some((x) => x.name === v)) errs.push(invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  return errs;
}
