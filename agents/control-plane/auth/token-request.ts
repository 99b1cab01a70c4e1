// POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token (authentication.k8s.io/v1
// TokenRequest), as upstream's TokenREST: validate the spec, resolve the bound Pod, Secret or Node
// (must exist, uid must match, a pod must run under this ServiceAccount), apply NodeRestriction
// (a kubelet gets tokens only bound to pods on its node) and answer with a signed token.
import { ApiError, badRequest, conflict, invalid } from '../apiserver/errors.ts';
import { getOwn } from '../apiserver/safe-keys.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { FieldError } from '../apiserver/validation/field.ts';
import type { Attributes } from './attributes.ts';
import { forbiddenFor } from './authorizer.ts';
import { nodeNameOf } from './node.ts';
import type { IssueRequest, Ref, ServiceAccountTokens } from './sa-tokens.ts';
import { tokenLifetime } from './token-expiration.ts';

export const MIN_EXPIRATION_SECONDS = 600;
export const DEFAULT_EXPIRATION_SECONDS = 3600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

/** Reads an object as stored now; throws the 404 NotFound Status when it is absent. */
export type Getter = (plural: 'serviceaccounts' | 'pods' | 'secrets' | 'nodes', namespace: string | undefined, name: string) => Promise<Obj>;

type Body = Record<string, unknown>;
const member = (o: unknown, k: string): unknown =>
  typeof o === 'object' && o !== null && !Array.isArray(o) ? getOwn(o as Record<string, unknown>, k) : undefined;
const text = (o: unknown, k: string): string => {
  const v = member(o, k);
  return typeof v === 'string' ? v : '';
};
const refOf = (o: Obj): Ref => ({ name: o.metadata.name ?? '', uid: o.metadata.uid ?? '' });
const BOUND_PLURAL: Record<string, 'pods' | 'secrets' | 'nodes'> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };

function specOf(body: Body, saName: string, defaults: string[]) {
  const spec = member(body, 'spec') ?? {};
  const errs: FieldError[] = [];
  const rawExp = member(spec, 'expirationSeconds');
  const exp = rawExp === undefined || rawExp === null ? DEFAULT_EXPIRATION_SECONDS : Number(rawExp);
  if (!Number.isInteger(exp)) errs.push({ type: 'Invalid', field: 'spec.expirationSeconds', value: rawExp, detail: 'must be an integer' });
  else if (exp < MIN_EXPIRATION_SECONDS)
    errs.push({ type: 'Invalid', field: 'spec.expirationSeconds', value: exp, detail: 'may not specify a duration less than 10 minutes' });
  else if (exp > MAX_EXPIRATION_SECONDS)
    errs.push({ type: 'Invalid', field: 'spec.expirationSeconds', value: exp, detail: 'may not specify a duration larger than 2^32 seconds' });
  const listed = member(spec, 'audiences');
  const audiences = Array.isArray(listed) ? listed.filter((a): a is string => typeof a === 'string') : [];
  if (errs.length) throw invalid('TokenRequest', 'authentication.k8s.io', saName, errs);
  const bound = member(spec, 'boundObjectRef');
  return {
    expirationSeconds: exp,
    audiences: audiences.length ? audiences : defaults,
    bound: bound ? { kind: text(bound, 'kind'), apiVersion: text(bound, 'apiVersion'), name: text(bound, 'name'), uid: text(bound, 'uid') } : undefined,
  };
}

/** NodeRestriction for TokenRequests: bound to a pod, by uid, scheduled on the requesting node. */
async function nodeRestriction(
  a: Attributes,
  node: string,
  bound: { kind: string; apiVersion: string; name: string; uid: string } | undefined,
  get: Getter,
  ns: string,
): Promise<void> {
  if (!bound || bound.apiVersion !== 'v1' || bound.kind !== 'Pod' || !bound.name) throw forbiddenFor(a, 'node requested token not bound to a pod');
  if (!bound.uid) throw forbiddenFor(a, 'node requested token with a pod binding without a uid');
  const pod = await get('pods', ns, bound.name);
  if (pod.metadata.uid !== bound.uid)
    throw forbiddenFor(
      a,
      `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  if (pod.spec?.nodeName !== node) throw forbiddenFor(a, 'node requested token bound to a pod scheduled on a different node');
}

/** Answers a TokenRequest create; `a` are the request's attributes (its user may be a kubelet). */
export async function createTokenRequest(
  tokens: ServiceAccountTokens,
  get: Getter,
  a: Attributes,
  ns: string,
  saName: string,
  body: Body,
): Promise<{ body: Body; warnings: string[] }> {
  if (text(member(body, 'metadata'), 'name') && text(member(body, 'metadata'), 'name') !== saName)
    throw badRequest(`the name of the object (${text(member(body, 'metadata'), 'name')}) does not match the name on the URL (${saName})`);
  const spec = specOf(body, saName, tokens.audiences);
  const node = nodeNameOf(a.user);
  if (node) await nodeRestriction(a, node, spec.bound, get, ns);
  const sa = await get('serviceaccounts', ns, saName);
  const req: IssueRequest = {
    serviceAccount: { ...refOf(sa), namespace: ns },
    audiences: spec.audiences,
    expirationSeconds: spec.expirationSeconds,
  };
  const b = spec.bound;
  if (b) {
    const plural = b.apiVersion === 'v1' ? getOwn(BOUND_PLURAL, b.kind) : undefined;
    if (!plural) {
      const [group, version] = b.apiVersion.includes('/') ? b.apiVersion.split('/', 2) : ['', b.apiVersion];
      throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${b.kind}`);
    }
    const obj = await get(plural, plural === 'nodes' ? undefined : ns, b.name);
    if (b.uid && b.uid !== obj.metadata.uid)
      throw conflict(
        { group: '', plural: b.kind },
        b.name,
        `the UID in the bound object reference (${b.uid}) does not match the UID in record (${obj.metadata.uid}). The object might have been deleted and then recreated`,
      );
    if (plural === 'pods') {
      const podSA = obj.spec?.serviceAccountName ?? '';
      if (podSA !== saName) throw badRequest(`cannot bind token for serviceaccount "${saName}" to pod running with serviceaccount "${podSA}"`);
      req.pod = refOf(obj);
      const nodeName = obj.spec?.nodeName;
      const n = nodeName
        ? await get('nodes', undefined, nodeName).catch((e: unknown) => (e instanceof ApiError && e.code === 404 ? undefined : Promise.reject(e)))
        : undefined;
      if (n) req.node = refOf(n);
    } else if (plural === 'secrets') req.secret = refOf(obj);
    else req.node = refOf(obj);
  }
  // the cap, and the year-long token for the kubelet's 3607 s request (token-expiration.ts)
  const life = tokenLifetime(tokens.expiration, spec.expirationSeconds, {
    podBound: !!req.pod,
    ownAudiences: spec.audiences.every((x) => tokens.audiences.includes(x)),
  });
  req.expirationSeconds = life.lifetimeSeconds;
  req.warnAfterSeconds = life.warnAfterSeconds;
  const t = tokens.issue(req);
  const boundRef = b ? { kind: b.kind, apiVersion: b.apiVersion, name: b.name, uid: b.uid || (req.pod ?? req.secret ?? req.node)?.uid } : undefined;
  const answer = {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: saName, namespace: ns, creationTimestamp: null },
    spec: { audiences: spec.audiences, expirationSeconds: life.expirationSeconds, boundObjectRef: boundRef ?? null },
    status: { token: t.token, expirationTimestamp: new Date((t.iat + life.expirationSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
  return { body: answer, warnings: life.warnings };
}
