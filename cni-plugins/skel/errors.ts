// CNI error codes (spec "Well-known Error Codes") and the error type every plugin throws.
// The skel turns a CniError into the spec's error JSON on stdout and a non-zero exit.

export const ErrCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  // spec 1.1 STATUS codes
  pluginNotAvailable: 50,
  limitedConnectivityNoService: 51,
  limitedConnectivityDegraded: 52,
  // what the reference Go skel reports for a plain error from a plugin
  internal: 999,
} as const;

export class CniError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.code = code;
    this.details = details;
  }

  /** The spec's error object; `details` is omitted when empty, as the reference does. */
  toJSON(cniVersion: string): Record<string, unknown> {
    const out: Record<string, unknown> = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}

/** Any thrown value as a CniError: plain errors become code 999 (internal), like the reference. */
export function asCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof Error) return new CniError(ErrCode.internal, e.message);
  return new CniError(ErrCode.internal, String(e));
}
