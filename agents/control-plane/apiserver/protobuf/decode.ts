// Decoding of Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf) into the
// JSON form the rest of the server works on. kubectl's typed commands (create namespace,
// create deployment, create configmap ...) send these. The envelope is the 4-byte magic "k8s\0"
// followed by a runtime.Unknown {1: typeMeta{1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
// 4: contentType}; raw is the object message, read with the field table in messages.ts.
import { MESSAGES } from './messages.ts';
import { setOwn } from '../safe-keys.ts';

export class ProtobufError extends Error {}

interface FieldSpec {
  json: string;
  ptr: boolean;
  omit: boolean;
  inline: boolean;
  rep: boolean;
  map: boolean;
  kind: string;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const parsed = new Map<string, Map<number, FieldSpec>>();

function fieldsOf(message: string): Map<number, FieldSpec> {
  let m = parsed.get(message);
  if (m) return m;
  const src = MESSAGES[message];
  if (src === undefined) throw new ProtobufError(`no protobuf schema for ${message}`);
  m = new Map();
  for (const entry of src.split(' ').filter(Boolean)) {
    const r = /^([^=]+)=(\d+)([?o^]*):([[{]?)(.+)$/.exec(entry);
    if (!r) throw new ProtobufError(`bad schema entry ${entry}`);
    const [, json, num, flags, shape, kind] = r;
    m.set(Number(num), {
      json,
      ptr: flags.includes('?'),
      omit: flags.includes('o'),
      inline: flags.includes('^'),
      rep: shape === '[',
      map: shape === '{',
      kind,
    });
  }
  parsed.set(message, m);
  return m;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
      if (shift > 70n) throw new ProtobufError('varint too long');
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new ProtobufError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

/** Raw field list of a message: number -> values (wire-level). */
function rawFields(buf: Buffer): { num: number; wire: number; value: bigint | Buffer }[] {
  const r = new Reader(buf);
  const out: { num: number; wire: number; value: bigint | Buffer }[] = [];
  while (!r.done) {
    const tag = Number(r.varint());
    const num = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ num, wire, value: r.varint() });
    else if (wire === 2) out.push({ num, wire, value: r.bytes() });
    else r.skip(wire);
  }
  return out;
}

const asInt = (v: bigint | Buffer): number => Number(BigInt.asIntN(64, v as bigint));
const asStr = (v: bigint | Buffer): string => (v as Buffer).toString('utf8');

function time(buf: Buffer): string | null {
  let seconds = 0;
  let nanos = 0;
  for (const f of rawFields(buf)) {
    if (f.num === 1) seconds = asInt(f.value);
    if (f.num === 2) nanos = asInt(f.value);
  }
  if (!seconds && !nanos) return null;
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return nanos ? `${iso}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${iso}Z`;
}

function scalar(kind: string, v: bigint | Buffer): unknown {
  switch (kind) {
    case 's':
      return asStr(v);
    case 'i':
      return typeof v === 'bigint' ? asInt(v) : 0;
    case 'b':
      return typeof v === 'bigint' ? v !== 0n : false;
    case 'y':
      return (v as Buffer).toString('base64');
    case 'T':
      return time(v as Buffer);
    case 'Q': {
      const f = rawFields(v as Buffer).find((x) => x.num === 1);
      return f ? asStr(f.value) : '0';
    }
    case 'I': {
      let type = 0;
      let intVal = 0;
      let strVal = '';
      for (const f of rawFields(v as Buffer)) {
        if (f.num === 1) type = asInt(f.value);
        if (f.num === 2) intVal = asInt(f.value);
        if (f.num === 3) strVal = asStr(f.value);
      }
      return type === 1 ? strVal : intVal;
    }
    case 'R':
    case 'F': {
      const f = rawFields(v as Buffer).find((x) => x.num === 1);
      if (!f) return {};
      try {
        return JSON.parse(asStr(f.value));
      } catch {
        return {};
      }
    }
    case 'D': {
      const f = rawFields(v as Buffer).find((x) => x.num === 1);
      return f ? `${asInt(f.value) / 1e9}s` : '0s';
    }
    default:
      return decodeMessage(v as Buffer, kind);
  }
}

/** Zero values as encoding/json's omitempty sees them (structs are never empty). */
function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null || (Array.isArray(v) && v.length === 0);
}

export function decodeMessage(buf: Buffer, message: string): Record<string, unknown> {
  const fields = fieldsOf(message);
  const out: Record<string, unknown> = {};
  const inline: Record<string, unknown>[] = [];
  for (const f of rawFields(buf)) {
    const spec = fields.get(f.num);
    if (!spec) continue;
    if (spec.map) {
      let key = '';
      let value: unknown;
      for (const e of rawFields(f.value as Buffer)) {
        if (e.num === 1) key = asStr(e.value);
        if (e.num === 2) value = scalar(spec.kind, e.value);
      }
      const m = (out[spec.json] ??= {}) as Record<string, unknown>;
      setOwn(m, key, value ?? (spec.kind === 's' ? '' : null));
    } else if (spec.rep) {
      const list = (out[spec.json] ??= []) as unknown[];
      // tolerate packed encoding of repeated varints
      if (f.wire === 2 && (spec.kind === 'i' || spec.kind === 'b')) {
        const r = new Reader(f.value as Buffer);
        while (!r.done) list.push(scalar(spec.kind, r.varint()));
      } else list.push(scalar(spec.kind, f.value));
    } else if (spec.inline) {
      inline.push(scalar(spec.kind, f.value) as Record<string, unknown>);
    } else out[spec.json] = scalar(spec.kind, f.value);
  }
  // encoding/json leaves out zero values of omitempty fields that are not pointers
  for (const spec of fields.values()) {
    if (!(spec.json in out)) continue;
    const v = out[spec.json];
    if (v === null || (spec.omit && !spec.ptr && isZero(v))) delete out[spec.json];
  }
  for (const o of inline) Object.assign(out, o);
  return out;
}

/** The JSON form of a Kubernetes protobuf body whose object message is `message` (e.g. core.Pod). */
export function decodeK8sProtobuf(buf: Buffer, message: string): Record<string, unknown> {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new ProtobufError('missing the k8s protobuf magic prefix');
  let apiVersion = '';
  let kind = '';
  let raw: Buffer | undefined;
  for (const f of rawFields(buf.subarray(4))) {
    if (f.num === 1) {
      for (const t of rawFields(f.value as Buffer)) {
        if (t.num === 1) apiVersion = asStr(t.value);
        if (t.num === 2) kind = asStr(t.value);
      }
    } else if (f.num === 2) raw = f.value as Buffer;
    else if (f.num === 3 && (f.value as Buffer).length) throw new ProtobufError('content encodings are not supported');
  }
  const obj = decodeMessage(raw ?? Buffer.alloc(0), message);
  return { ...(apiVersion ? { apiVersion } : {}), ...(kind ? { kind } : {}), ...obj };
}

const GROUP_PACKAGE: Record<string, string> = {
  '': 'core',
  apps: 'apps',
  'coordination.k8s.io': 'coordination',
  'discovery.k8s.io': 'discovery',
  'events.k8s.io': 'events',
  'authorization.k8s.io': 'authorization',
  'authentication.k8s.io': 'authentication',
  autoscaling: 'autoscaling',
  batch: 'batch',
  policy: 'policy',
  'rbac.authorization.k8s.io': 'rbac',
};

/** The protobuf message of a kind, when this server knows its schema. */
export function messageFor(group: string, kind: string, version?: string): string | undefined {
  const pkg = GROUP_PACKAGE[group];
  // a kind whose versions differ on the wire has its later versions under <package><version>
  const versioned = `${pkg}${version}.${kind}`;
  if (pkg && version && MESSAGES[versioned] !== undefined) return versioned;
  const name = `${pkg}.${kind}`;
  return pkg && MESSAGES[name] !== undefined ? name : undefined;
}
