// CRI enum and timestamp values as they arrive from @grpc/proto-loader (enums may be names or
// numbers; int64 nanoseconds may be strings or numbers), normalised in one place.
import { metaTime } from '../../api/wire.ts';

export type EnumValue = string | number | undefined | null;

const sandboxStates = ['SANDBOX_READY', 'SANDBOX_NOTREADY'];
const containerStates = ['CONTAINER_CREATED', 'CONTAINER_RUNNING', 'CONTAINER_EXITED', 'CONTAINER_UNKNOWN'];

const enumName = (v: EnumValue, names: string[]): string => (typeof v === 'number' ? (names[v] ?? 'UNKNOWN') : String(v ?? names[0]));

export const sandboxState = (v: EnumValue): string => enumName(v, sandboxStates);
export const containerState = (v: EnumValue): string => enumName(v, containerStates);

/** CRI timestamps are int64 nanoseconds since the epoch; 0 means unset. */
export function nsToDate(v: unknown): Date | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'object' && 'toString' in (v as object) ? BigInt(String(v)) : BigInt(v as string | number);
  if (n === 0n) return undefined;
  return new Date(Number(n / 1_000_000n));
}

export const rfc3339 = (d: Date | undefined): string | undefined => (d ? metaTime(d) : undefined);

const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** A failed runtime call as Go's gRPC prints it: "rpc error: code = NotFound desc = ...". */
export function rpcText(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  if (typeof e?.code === 'number' && typeof e.details === 'string') return `rpc error: code = ${GRPC_CODES[e.code] ?? e.code} desc = ${e.details}`;
  return String(e?.message ?? err);
}

/** Only the runtime's own description of the failure (what upstream puts in "Error: ..." events). */
export const rpcDesc = (err: unknown): string => (err as { details?: string })?.details ?? String((err as Error)?.message ?? err);
