// AdmissionReview v1 on the wire (pure): the request upstream's CreateV1AdmissionReview builds,
// and the checks VerifyAdmissionResponse makes of the answer, with its wording.
import type { UserInfo } from '../../auth/attributes.ts';
import type { Obj } from '../strategies/types.ts';
import type { Operation } from './types.ts';

/** What a request is about: the resource, the user, dry run (the name in the URL; a create names its object in the body). */
export interface ReviewTarget {
  group: string;
  version: string;
  kind: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
  user: UserInfo;
  dryRun: boolean;
}

export interface ReviewAttributes extends ReviewTarget {
  uid: string;
  operation: Operation;
  object: Obj | undefined;
  oldObject: Obj | undefined;
  /** CreateOptions, UpdateOptions or DeleteOptions (meta.k8s.io/v1); none for CONNECT (null, as upstream) */
  options: Record<string, unknown> | undefined;
  /** the version a matchPolicy Equivalent rule matched (kind and resource); requestKind stays the request's */
  matchedAs?: { version: string; kind: string };
}

export function admissionReview(a: ReviewAttributes, reviewVersion: string): Record<string, unknown> {
  const requestKind = { group: a.group, version: a.version, kind: a.kind };
  const requestResource = { group: a.group, version: a.version, resource: a.resource };
  const as = a.matchedAs;
  return {
    kind: 'AdmissionReview',
    apiVersion: `admission.k8s.io/${reviewVersion}`,
    request: {
      uid: a.uid,
      kind: as ? { group: a.group, version: as.version, kind: as.kind } : requestKind,
      resource: as ? { ...requestResource, version: as.version } : requestResource,
      ...(a.subresource ? { subResource: a.subresource } : {}),
      requestKind,
      requestResource,
      ...(a.subresource ? { requestSubResource: a.subresource } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
      operation: a.operation,
      userInfo: {
        username: a.user.name,
        ...(a.user.uid ? { uid: a.user.uid } : {}),
        groups: a.user.groups,
        ...(a.user.extra && Object.keys(a.user.extra).length ? { extra: a.user.extra } : {}),
      },
      object: a.object ?? null,
      oldObject: a.oldObject ?? null,
      dryRun: a.dryRun,
      options: a.options ?? null,
    },
  };
}

export interface ReviewStatus {
  code?: number;
  reason?: string;
  message?: string;
  status?: string;
  details?: Record<string, unknown>;
}

export interface ReviewResponse {
  allowed: boolean;
  patch?: string;
  patchType?: string;
  result?: ReviewStatus;
  warnings: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The answer's response, or throws an Error with upstream's reason (the caller adds "received invalid webhook response: "). */
export function verifyResponse(text: string, uid: string, reviewVersion: string, mutating: boolean): ReviewResponse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw Object.assign(new Error(`couldn't get version/kind; json parse error: ${(e as Error).message}`), { decode: true });
  }
  if (!isRecord(doc)) throw Object.assign(new Error("couldn't get version/kind; json parse error: not an object"), { decode: true });
  const r = doc.response;
  if (!isRecord(r)) throw new Error('webhook response was absent');
  if (r.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(r.uid ?? '')}`);
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  if (apiVersion !== `admission.k8s.io/${reviewVersion}` || kind !== 'AdmissionReview') {
    const [g, v] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    throw new Error(`expected webhook response of admission.k8s.io/${reviewVersion}, Kind=AdmissionReview, got ${g}/${v}, Kind=${kind}`);
  }
  const patch = typeof r.patch === 'string' && r.patch ? r.patch : undefined;
  const patchType = typeof r.patchType === 'string' ? r.patchType : undefined;
  if (mutating) {
    if (patch && r.patchType === undefined) throw new Error('webhook returned response.patch but not response.patchType');
    if (!patch && r.patchType !== undefined) throw new Error('webhook returned response.patchType but not response.patch');
    if (r.patchType !== undefined && !patchType) throw new Error(`webhook returned invalid response.patchType of ""`);
  } else {
    if (patch) throw new Error('validating webhook may not return response.patch');
    if (r.patchType !== undefined) throw new Error('validating webhook may not return response.patchType');
  }
  return {
    allowed: r.allowed === true,
    ...(mutating && patch ? { patch, patchType } : {}),
    // AdmissionResponse.Result is `status` on the wire
    ...(isRecord(r.status) ? { result: r.status as ReviewStatus } : {}),
    warnings: Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}
