// The one API error of the tree: a metav1.Status carried as an exception. The API server throws it
// (apiserver/errors.ts builds upstream's reasons and messages on it), its in-process LoopbackClient
// and the agents' HTTPS ApiClient rethrow the Status they get back as it, so `isNotFound`,
// `isConflict` and the informers' 410 Gone rule work the same on both sides. It lives in agents/api
// because agents may depend only on agents/api, and the control plane already depends on it.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  /** The error a client makes of a failed response's body (a Status, or anything else). */
  static fromStatus(code: number, body: unknown): ApiError {
    const s = (typeof body === 'object' && body !== null ? body : { message: String(body ?? '') }) as Partial<Status>;
    return new ApiError(code, s.reason ?? 'Unknown', s.message ?? `status ${code}`, s.details);
  }

  /** metav1.Status with its fields in Go's struct order, as kube-apiserver's encoder writes them */
  toStatus(): Status {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      // metav1.Status.reason is omitempty: an error that is not a Status has none (StatusReasonUnknown)
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.code === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.code === 409;
export const isGone = (e: unknown): boolean => e instanceof ApiError && e.code === 410;
