// The Swagger 2.0 document in gnostic's openapi.v2.Document protobuf, which is the only form
// client-go's OpenAPISchema() reads (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf).
// Field numbers are those of gnostic's OpenAPIv2.proto; only what buildOpenAPIv2 emits is encoded.
// Vendor extensions travel as Any{yaml}: JSON text is valid YAML.
type Doc = Record<string, any>;

class W {
  private parts: Buffer[] = [];
  private varint(n: number): void {
    const b: number[] = [];
    while (n > 0x7f) {
      b.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    b.push(n);
    this.parts.push(Buffer.from(b));
  }
  str(field: number, v: string | undefined): this {
    if (v === undefined || v === '') return this;
    return this.bytes(field, Buffer.from(v, 'utf8'));
  }
  strs(field: number, vs: string[] | undefined): this {
    for (const v of vs ?? []) this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }
  bool(field: number, v: boolean | undefined): this {
    if (!v) return this;
    this.varint((field << 3) | 0);
    this.varint(1);
    return this;
  }
  bytes(field: number, b: Buffer): this {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.parts.push(b);
    return this;
  }
  msg(field: number, b: Buffer | undefined): this {
    return b === undefined ? this : this.bytes(field, b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** NamedAny{name, Any{yaml}} for every x- key of o. */
function extensions(w: W, field: number, o: Doc): void {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-')) continue;
    w.msg(
      field,
      new W()
        .str(1, k)
        .msg(2, new W().str(2, JSON.stringify(v)).done())
        .done(),
    );
  }
}

export function schemaPb(s: Doc): Buffer {
  const w = new W().str(1, s.$ref).str(2, s.format).str(4, s.description);
  w.strs(19, s.required);
  if (s.additionalProperties !== undefined) {
    const ap = typeof s.additionalProperties === 'object' ? new W().msg(1, schemaPb(s.additionalProperties)) : new W().bool(2, !!s.additionalProperties);
    w.msg(21, ap.done());
  }
  if (s.type) w.msg(22, new W().strs(1, Array.isArray(s.type) ? s.type : [s.type]).done());
  if (s.items) w.msg(23, new W().msg(1, schemaPb(s.items)).done());
  for (const a of s.allOf ?? []) w.msg(24, schemaPb(a));
  if (s.properties) {
    const p = new W();
    for (const [n, v] of Object.entries(s.properties as Doc)) p.msg(1, new W().str(1, n).msg(2, schemaPb(v)).done());
    w.msg(25, p.done());
  }
  extensions(w, 31, s);
  return w.done();
}

function parameterPb(p: Doc): Buffer {
  let param: W;
  if (p.in === 'body') {
    const body = new W()
      .str(1, p.description)
      .str(2, p.name)
      .str(3, p.in)
      .bool(4, p.required)
      .msg(5, schemaPb(p.schema ?? {}));
    param = new W().msg(1, body.done());
  } else {
    // QueryParameterSubSchema (3) and PathParameterSubSchema (4) number type and uniqueItems differently
    const query = p.in !== 'path';
    const sub = new W()
      .bool(1, p.required)
      .str(2, p.in)
      .str(3, p.description)
      .str(4, p.name)
      .str(query ? 6 : 5, p.type)
      .bool(query ? 20 : 19, p.uniqueItems);
    param = new W().msg(2, new W().msg(query ? 3 : 4, sub.done()).done());
  }
  return new W().msg(1, param.done()).done();
}

function operationPb(op: Doc): Buffer {
  const w = new W().str(3, op.description).str(5, op.operationId).strs(6, op.produces).strs(7, op.consumes);
  for (const p of op.parameters ?? []) w.msg(8, parameterPb(p));
  const responses = new W();
  for (const [code, r] of Object.entries(op.responses ?? {}) as [string, Doc][]) {
    const resp = new W().str(1, r.description ?? '');
    if (r.schema) resp.msg(2, new W().msg(1, schemaPb(r.schema)).done());
    responses.msg(1, new W().str(1, code).msg(2, new W().msg(1, resp.done()).done()).done());
  }
  w.msg(9, responses.done());
  extensions(w, 13, op);
  return w.done();
}

const PATH_ITEM_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, patch: 8 };

export function openAPIv2Pb(doc: Doc): Buffer {
  const w = new W().str(1, doc.swagger).msg(2, new W().str(1, doc.info?.title).str(2, doc.info?.version).done());
  const paths = new W();
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Doc][]) {
    const pi = new W();
    for (const [m, f] of Object.entries(PATH_ITEM_FIELDS)) if (item[m]) pi.msg(f, operationPb(item[m]));
    for (const p of item.parameters ?? []) pi.msg(9, parameterPb(p));
    paths.msg(2, new W().str(1, path).msg(2, pi.done()).done());
  }
  w.msg(8, paths.done());
  const defs = new W();
  for (const [n, s] of Object.entries(doc.definitions ?? {}))
    defs.msg(
      1,
      new W()
        .str(1, n)
        .msg(2, schemaPb(s as Doc))
        .done(),
    );
  w.msg(9, defs.done());
  return w.done();
}
