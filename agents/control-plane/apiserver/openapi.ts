// OpenAPI v3 documents generated from the registry and the client-node model schemas. kubectl
// reads them to learn that PATCH accepts the fieldValidation parameter (server-side validation)
// and which patch types each kind takes.
import { createHash } from 'node:crypto';
import type { Registry, ResourceInfo } from './registry.ts';
import type { JSONSchemaProps } from './crd/types.ts';
import { bareInV2, toOpenAPIv2 } from './crd/openapi-v2-schema.ts';
import { goTypeName, modelFields, type TypeRef } from './schema.ts';
import { listPatchMeta } from './patch/meta.ts';
import { FIELD_DESCRIPTIONS } from './openapi-descriptions.ts';
import { builtInComponentName } from './openapi-names.ts';

type Doc = Record<string, unknown>;

const q = (name: string, type = 'string') => ({ name, in: 'query', schema: { type, uniqueItems: true } });
const p = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } });

const WRITE_PARAMS = [q('dryRun'), q('fieldManager'), q('fieldValidation')];
const LIST_PARAMS = [
  q('allowWatchBookmarks', 'boolean'),
  q('continue'),
  q('fieldSelector'),
  q('labelSelector'),
  q('limit', 'integer'),
  q('resourceVersion'),
  q('resourceVersionMatch'),
  q('sendInitialEvents', 'boolean'),
  q('timeoutSeconds', 'integer'),
  q('watch', 'boolean'),
];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

export function componentName(model: string): string {
  // a custom resource's model is <group>/<version>/<kind>: upstream names it com.example.v1.Widget
  const custom = /^([^/]+)\/([^/]+)\/([^/]+)$/.exec(model);
  if (custom) return `${custom[1].split('.').reverse().join('.')}.${custom[2]}.${custom[3]}`;
  const builtIn = builtInComponentName(model);
  if (builtIn) return builtIn;
  const m = /^(?:([A-Z][a-z]+)(V\d+(?:alpha\d+|beta\d+)?)|(V\d+(?:alpha\d+|beta\d+)?))(?=[A-Z])/.exec(model);
  const version = (m?.[2] ?? m?.[3] ?? 'v1').toLowerCase();
  const group = m?.[1]?.toLowerCase() ?? 'core';
  return `io.k8s.api.${group}.${version}.${goTypeName(model)}`;
}

function refTo(model: string) {
  return { $ref: `#/components/schemas/${componentName(model)}` };
}

function schemaOf(t: TypeRef, owner: string, field: string, todo: string[]): Doc {
  switch (t.t) {
    case 'object':
      todo.push(t.name);
      return { allOf: [refTo(t.name)] };
    case 'array': {
      const s: Doc = { type: 'array', items: schemaOf(t.items, owner, field, todo) };
      const meta = listPatchMeta(owner, field);
      if (meta) {
        s['x-kubernetes-patch-strategy'] = meta.retainKeys ? 'merge,retainKeys' : 'merge';
        if (meta.key) s['x-kubernetes-patch-merge-key'] = meta.key;
      }
      return s;
    }
    case 'map':
      return { type: 'object', additionalProperties: schemaOf(t.values, owner, field, todo) };
    case 'integer':
      return { type: 'integer', format: t.format };
    case 'number':
      return { type: 'number', format: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'date':
      return { type: 'string', format: 'date-time' };
    case 'bytes':
      return { type: 'string', format: 'byte' };
    case 'intstr':
    case 'quantity':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return { type: 'string' };
  }
}

/**
 * Component schemas for the models reachable from the resources' kinds. The kinds carry
 * x-kubernetes-group-version-kind, so kubectl explain finds them and kubectl apply computes its
 * strategic merge patches from the same merge keys this server applies them with.
 */
export function components(rs: ResourceInfo[], o: { v2?: boolean } = {}): Record<string, Doc> {
  const out: Record<string, Doc> = {};
  const todo = rs.filter((r) => !r.custom).map((r) => r.model);
  for (const r of rs) {
    if (!r.custom) continue;
    // v2 as upstream's builder: a kind keeping unknown fields at its root is a bare object (kubectl
    // would otherwise refuse its unknown fields), and the rest of the schema in its v2 form
    if (o.v2 && bareInV2(r.custom.schema)) out[componentName(r.model)] = { type: 'object' };
    else out[componentName(r.model)] = customSchema(o.v2 ? toOpenAPIv2(r.custom.schema!) : r.custom.schema, todo);
  }
  while (todo.length) {
    const model = todo.pop()!;
    const name = componentName(model);
    if (out[name]) continue;
    const fields = modelFields(model);
    if (!fields) {
      out[name] = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
      continue;
    }
    const properties: Record<string, Doc> = {};
    for (const f of fields.values()) {
      const description = FIELD_DESCRIPTIONS[model]?.[f.name];
      properties[f.name] = { ...schemaOf(f.type, model, f.name, todo), ...(description ? { description } : {}) };
    }
    out[name] = { type: 'object', properties };
  }
  for (const r of rs) out[componentName(r.model)]['x-kubernetes-group-version-kind'] = [gvk(r)];
  return out;
}

/** A custom resource's published schema: its CRD schema with apiVersion, kind and ObjectMeta. */
function customSchema(s: JSONSchemaProps | undefined, todo: string[]): Doc {
  todo.push('V1ObjectMeta');
  const base: JSONSchemaProps = s ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    ...base,
    type: 'object',
    properties: {
      ...(base.properties ?? {}),
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { description: "Standard object's metadata.", allOf: [refTo('V1ObjectMeta')] },
    },
  };
}

function gvk(r: ResourceInfo) {
  return { group: r.group, version: r.version, kind: r.kind };
}

function op(r: ResourceInfo, action: string, verbName: string, extra: Doc = {}): Doc {
  return {
    operationId: `${action}${r.kind}`,
    'x-kubernetes-action': verbName,
    'x-kubernetes-group-version-kind': gvk(r),
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: refTo(r.model) } } } },
    ...extra,
  };
}

export function pathsFor(r: ResourceInfo): Record<string, Doc> {
  const root = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const coll = r.namespaced ? `${root}/namespaces/{namespace}/${r.plural}` : `${root}/${r.plural}`;
  const nsParam = r.namespaced ? [p('namespace')] : [];
  const body = { requestBody: { content: { 'application/json': { schema: refTo(r.model) } }, required: true } };
  const patch = (sub = '') =>
    op(r, `patch${sub}`, 'patch', {
      parameters: [...WRITE_PARAMS, q('force', 'boolean')],
      // custom resources take no strategic merge patch (kubectl apply then sends a merge patch)
      requestBody: {
        content: Object.fromEntries(PATCH_TYPES.filter((t) => !r.custom || !t.includes('strategic')).map((t) => [t, { schema: { type: 'object' } }])),
        required: true,
      },
    });
  if (r.virtual) return { [coll]: { post: op(r, 'create', 'post', { parameters: WRITE_PARAMS, ...body }), parameters: nsParam } };
  const out: Record<string, Doc> = {
    [coll]: {
      get: op(r, 'list', 'list', { parameters: LIST_PARAMS }),
      post: op(r, 'create', 'post', { parameters: WRITE_PARAMS, ...body }),
      delete: op(r, 'deleteCollection', 'deletecollection', { parameters: LIST_PARAMS }),
      parameters: nsParam,
    },
    [`${coll}/{name}`]: {
      get: op(r, 'read', 'get'),
      put: op(r, 'replace', 'put', { parameters: WRITE_PARAMS, ...body }),
      patch: patch(),
      delete: op(r, 'delete', 'delete', { parameters: [q('dryRun'), q('gracePeriodSeconds', 'integer'), q('propagationPolicy')] }),
      parameters: [p('name'), ...nsParam],
    },
  };
  if (r.namespaced) out[`${root}/${r.plural}`] = { get: op(r, 'list', 'list', { parameters: LIST_PARAMS }) };
  if (r.subresources.includes('status')) {
    out[`${coll}/{name}/status`] = {
      get: op(r, 'readStatus', 'get'),
      put: op(r, 'replaceStatus', 'put', { parameters: WRITE_PARAMS, ...body }),
      patch: patch('Status'),
      parameters: [p('name'), ...nsParam],
    };
  }
  return out;
}

export class OpenAPIv3 {
  private readonly docs = new Map<string, { json: string; hash: string }>();

  constructor(private readonly reg: Registry) {
    reg.onChange(() => this.docs.clear());
  }

  /** "api/v1" or "apis/<group>/<version>" */
  private key(r: { group: string; version: string }): string {
    return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
  }

  private build(key: string): { json: string; hash: string } | undefined {
    const cached = this.docs.get(key);
    if (cached) return cached;
    const rs = this.reg.resources.filter((r) => this.key(r) === key);
    if (!rs.length) return undefined;
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.35.0' },
      paths: Object.assign({}, ...rs.map(pathsFor)),
      components: { schemas: components(rs) },
    };
    const json = JSON.stringify(doc);
    const entry = { json, hash: createHash('sha512').update(json).digest('hex').slice(0, 128).toUpperCase() };
    this.docs.set(key, entry);
    return entry;
  }

  index(): string {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const r of this.reg.resources) {
      const k = this.key(r);
      if (paths[k]) continue;
      paths[k] = { serverRelativeURL: `/openapi/v3/${k}?hash=${this.build(k)!.hash}` };
    }
    return JSON.stringify({ paths });
  }

  document(key: string): string | undefined {
    return this.build(key)?.json;
  }
}
