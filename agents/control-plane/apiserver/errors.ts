// API errors carried as metav1.Status objects, with the reasons and codes clients switch on
// (client-go's apierrors.IsNotFound, IsConflict, IsAlreadyExists, IsInvalid, IsGone ...).
import { ValueTooLargeError } from '../storage/types.ts';
import type { FieldError } from './validation/field.ts';
import { fieldErrorBody, fieldErrorString } from './validation/field.ts';
import { ApiError, type Status } from '../../api/errors.ts';

// the class and the Status shapes are shared with every client (agents/api/errors.ts)
export { ApiError, type Status, type StatusCause, type StatusDetails } from '../../api/errors.ts';

/**
 * A backend behind a proxy (a pod, a Service's endpoints, a kubelet) that cannot answer: the
 * caller's 5xx, not a fault of the API server, so it is logged as a warning (logLevelOf) rather
 * than an error, as upstream logs its proxy's backend failures.
 */
export class BackendError extends ApiError {}

/** How the API server logs a failed request: 5xx errors, except timeouts and backends' failures, at error. */
export function logLevelOf(err: ApiError): 'error' | 'warn' | undefined {
  if (err.code < 500 || err.code === 504) return undefined;
  return err instanceof BackendError ? 'warn' : 'error';
}

/** A Status as a response body: JSON ending in a newline, as Go's json.Encoder ends every value. */
export const statusBody = (s: Status): string => `${JSON.stringify(s)}\n`;

export interface GroupResource {
  group: string;
  plural: string;
}

/** "pods" or "deployments.apps", as upstream qualifies resources in messages */
export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.plural}.${gr.group}` : gr.plural;
}

export const notFound = (gr: GroupResource, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group || undefined, kind: gr.plural });

export const alreadyExists = (gr: GroupResource, name: string) =>
  new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group || undefined, kind: gr.plural });

export const conflict = (gr: GroupResource, name: string, why: string) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
    name,
    group: gr.group || undefined,
    kind: gr.plural,
  });

export const staleConflict = (gr: GroupResource, name: string) =>
  conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');

export function invalid(kind: string, group: string, name: string, errs: FieldError[]): ApiError {
  const msgs = errs.map(fieldErrorString);
  const joined = msgs.length === 1 ? msgs[0] : `[${msgs.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new ApiError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${joined}`, {
    name,
    group: group || undefined,
    kind,
    causes: errs.map((e) => ({ reason: `FieldValue${e.type}`, message: fieldErrorBody(e), field: e.field })),
  });
}

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);
export const forbidden = (gr: GroupResource, name: string, why: string) =>
  new ApiError(403, 'Forbidden', `${qualified(gr)} "${name}" is forbidden: ${why}`, { name, group: gr.group || undefined, kind: gr.plural });
export const methodNotSupported = (gr: GroupResource, action: string) =>
  new ApiError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(gr)}"`, {
    group: gr.group || undefined,
    kind: gr.plural,
  });
export const gone = (message: string) => new ApiError(410, 'Expired', message);
export const unauthorized = () => new ApiError(401, 'Unauthorized', 'Unauthorized');
export const tooLarge = (limit: number) => new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
export const unsupportedMediaType = (ct: string) =>
  new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
    {
      causes: [{ reason: 'UnsupportedMediaType', message: ct }],
    },
  );
export const notAcceptable = () => new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml');
export const pathNotFound = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
export const tooLargeResourceVersion = (requested: number, current: number) =>
  new ApiError(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
/** An error upstream's handler gets as a plain Go error, not a Status: 500 with no reason (ErrorToAPIStatus). */
export const unknownError = (message: string) => new ApiError(500, '', message);
export const internalError = (err: unknown) =>
  new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);

export function asApiError(err: unknown): ApiError {
  // the datastore refused the value (etcd's request size limit), as upstream reports it
  if (err instanceof ValueTooLargeError) return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: ${err.message}`);
  return err instanceof ApiError ? err : internalError(err);
}
