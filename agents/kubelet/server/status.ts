// Errors of the kubelet's HTTP server as metav1 Status objects, the shape the API server uses, so
// that a proxied `kubectl logs/exec/port-forward` failure reads like any other API error.
import { STATUS_CODES } from 'node:http';

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  422: 'Invalid',
  500: 'InternalError',
};

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string };
  code: number;
}

export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: { name?: string; kind?: string },
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new HttpError(400, message);
export const podNotFound = (name: string) => new HttpError(404, `pods "${name}" not found`, { name, kind: 'pods' });

export function toStatus(err: unknown): Status {
  const e = err instanceof HttpError ? err : new HttpError(500, `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  const s: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: REASONS[e.code] ?? 'Unknown',
    code: e.code,
  };
  if (e.details) s.details = e.details;
  return s;
}

/** A complete HTTP/1.1 response carrying the Status, for sockets taken over by an upgrade. */
export function rawStatusResponse(err: unknown): string {
  const s = toStatus(err);
  const body = JSON.stringify(s);
  return [
    `HTTP/1.1 ${s.code} ${STATUS_CODES[s.code] ?? 'Error'}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
