// The OpenAPI v2 (Swagger 2.0) document at /openapi/v2, derived from the same v3 paths and
// component schemas openapi.ts builds from the kept client-node models. kubectl falls back to it
// for client-side validation of kinds no v3 group document names (v1 List, for one), and asks
// for it in protobuf (openapi-v2-pb.ts), so it is converted, not written twice.
import type { Registry } from './registry.ts';
import { components, pathsFor } from './openapi.ts';
import { openAPIv2Pb } from './openapi-v2-pb.ts';

type Doc = Record<string, any>;

const V3_REF = '#/components/schemas/';

/** A v3 schema as Swagger 2.0 writes it (pure): definitions refs, no allOf wrappers, int-or-string format. */
export function v2Schema(s: Doc): Doc {
  if (typeof s !== 'object' || s === null) return s;
  if (typeof s.$ref === 'string') return { $ref: '#/definitions/' + s.$ref.slice(V3_REF.length) };
  if (Array.isArray(s.allOf) && s.allOf.length === 1 && Object.keys(s).length === 1) return v2Schema(s.allOf[0]);
  if (s['x-kubernetes-int-or-string']) return { type: 'string', format: 'int-or-string' };
  const out: Doc = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Doc).map(([n, x]) => [n, v2Schema(x)]));
    else if (k === 'items' || k === 'additionalProperties') out[k] = typeof v === 'object' ? v2Schema(v) : v;
    else out[k] = v;
  }
  return out;
}

function v2Param(p: Doc): Doc {
  const { schema, ...rest } = p;
  return { ...rest, ...(schema ?? {}) };
}

/** One v3 operation as a v2 operation: body parameter, consumes, response schemas. */
function v2Operation(op: Doc): Doc {
  const { requestBody, responses, parameters, ...rest } = op;
  const out: Doc = { ...rest, produces: ['application/json'] };
  const params: Doc[] = (parameters ?? []).map(v2Param);
  if (requestBody) {
    const types = Object.keys(requestBody.content ?? {});
    out.consumes = types;
    params.unshift({ name: 'body', in: 'body', required: true, schema: v2Schema(requestBody.content[types[0]].schema) });
  }
  if (params.length) out.parameters = params;
  out.responses = Object.fromEntries(
    Object.entries(responses ?? {}).map(([code, r]: [string, any]) => {
      const schema = r.content?.['application/json']?.schema;
      return [code, { description: r.description ?? '', ...(schema ? { schema: v2Schema(schema) } : {}) }];
    }),
  );
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

export function buildOpenAPIv2(reg: Registry): Doc {
  const paths: Doc = {};
  for (const r of reg.resources) {
    for (const [path, item] of Object.entries(pathsFor(r))) {
      const v2: Doc = {};
      for (const [k, v] of Object.entries(item as Doc)) {
        if (METHODS.includes(k)) v2[k] = v2Operation(v);
        else if (k === 'parameters') {
          if ((v as Doc[]).length) v2.parameters = (v as Doc[]).map(v2Param);
        }
      }
      paths[path] = v2;
    }
  }
  const definitions = Object.fromEntries(Object.entries(components(reg.resources, { v2: true })).map(([n, s]) => [n, v2Schema(s)]));
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.35.0' }, paths, definitions };
}

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
// the answer names the type without the '@', which Go's mime parser refuses (as upstream does)
const PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

/** The v2 document, built once, in JSON or (when the client asks for it) gnostic protobuf. */
export class OpenAPIv2 {
  private json?: string;
  private pb?: Buffer;
  constructor(private readonly reg: Registry) {
    reg.onChange(() => {
      this.json = this.pb = this.doc = undefined;
    });
  }

  respond(accept: string | undefined): { kind: 'raw'; status: number; text: string | Buffer; contentType: string } {
    const doc = () => (this.doc ??= buildOpenAPIv2(this.reg));
    const wantsPb = (accept ?? '').split(',').some((a) => a.trim().split(';')[0] === OPENAPI_V2_PROTOBUF);
    if (wantsPb) return { kind: 'raw', status: 200, text: (this.pb ??= openAPIv2Pb(doc())), contentType: PROTOBUF_CONTENT_TYPE };
    return { kind: 'raw', status: 200, text: (this.json ??= JSON.stringify(doc())), contentType: 'application/json' };
  }

  private doc?: Doc;
}
