// The gRPC health checking protocol (grpc.health.v1.Health/Check) that grpc probes call. Its two
// messages have one field each, so they are encoded by hand rather than through a schema:
//   HealthCheckRequest  { string service = 1; }
//   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN 0, SERVING 1, NOT_SERVING 2, SERVICE_UNKNOWN 3
import * as grpc from '@grpc/grpc-js';

export const HEALTH_CHECK_METHOD = '/grpc.health.v1.Health/Check';
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function readVarint(b: Buffer, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (let i = at; i < b.length; i++) {
    v += (b[i] & 0x7f) * 2 ** shift;
    if (!(b[i] & 0x80)) return [v, i + 1];
    shift += 7;
  }
  throw new Error('truncated varint');
}

/** The service field is written even when empty: some servers (grpc-js) refuse a zero-length message. */
export function encodeRequest(service: string): Buffer {
  const s = Buffer.from(service, 'utf8');
  return Buffer.from([0x0a, ...varint(s.length), ...s]);
}

export function decodeRequest(b: Buffer): string {
  let at = 0;
  let service = '';
  while (at < b.length) {
    const [tag, p] = readVarint(b, at);
    if (tag !== 0x0a) throw new Error(`unexpected field tag ${tag}`);
    const [len, q] = readVarint(b, p);
    service = b.subarray(q, q + len).toString('utf8');
    at = q + len;
  }
  return service;
}

export function encodeResponse(status: number): Buffer {
  return status ? Buffer.from([0x08, ...varint(status)]) : Buffer.alloc(0);
}

/** The ServingStatus number, skipping fields it does not know (as protobuf readers must). */
export function decodeResponse(b: Buffer): number {
  let at = 0;
  let status = 0;
  while (at < b.length) {
    const [tag, p] = readVarint(b, at);
    const wire = tag & 7;
    if (wire === 0) {
      const [v, q] = readVarint(b, p);
      if (tag >>> 3 === 1) status = v;
      at = q;
    } else if (wire === 2) {
      const [len, q] = readVarint(b, p);
      at = q + len;
    } else if (wire === 1) at = p + 8;
    else if (wire === 5) at = p + 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return status;
}

export type HealthAnswer = { ok: true } | { ok: false; message: string };

/** One Check call with upstream's failure messages; the deadline covers connecting and the call. */
export async function grpcHealthCheck(target: string, service: string, timeoutMs: number): Promise<HealthAnswer> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure(), { 'grpc.max_reconnect_backoff_ms': timeoutMs });
  const deadline = Date.now() + timeoutMs;
  const secs = `${Math.round(timeoutMs / 1000)}s`;
  try {
    const connected = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (err) => resolve(err ?? undefined)));
    if (connected) return { ok: false, message: `timeout: failed to connect service ${JSON.stringify(target)} within ${secs}: context deadline exceeded` };
    return await new Promise<HealthAnswer>((resolve) => {
      client.makeUnaryRequest(HEALTH_CHECK_METHOD, encodeRequest, decodeResponse, service, new grpc.Metadata(), { deadline }, (err, res) => {
        if (err) {
          const e = err as grpc.ServiceError;
          if (e.code === grpc.status.UNIMPLEMENTED)
            resolve({ ok: false, message: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` });
          else if (e.code === grpc.status.DEADLINE_EXCEEDED) resolve({ ok: false, message: `timeout: health rpc did not complete within ${secs}` });
          else resolve({ ok: false, message: `error: health rpc probe failed: ${e.details || e.message}` });
          return;
        }
        if (res === 1) resolve({ ok: true });
        else resolve({ ok: false, message: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[res ?? 0] ?? String(res))})` });
      });
    });
  } finally {
    client.close();
  }
}
