// Admission webhooks in the write path, as kube-apiserver's MutatingAdmissionWebhook and
// ValidatingAdmissionWebhook plugins: crud.ts calls mutate() after defaulting (webhooks one at a
// time in order, JSONPatch answers applied and defaulted again, IfNeeded webhooks called once more
// when a later one changed the object) and validate() after validation (all matching webhooks at
// once). failurePolicy decides what a failed call does; a denial carries the webhook's Status.
// CONNECT (pods/attach, exec, portforward) comes from server.ts's upgrade path through
// handler.admitConnect, with the request's options object (admission/connect.ts).
// Webhook configurations themselves are never sent to webhooks, so a broken webhook can always be
// removed. matchPolicy Equivalent (equivalent.ts): a validating webhook whose rules name another
// served version of the request's resource gets the object converted to it; mutating webhooks are
// matched by their exact rules only.
import { randomUUID } from 'node:crypto';
import { ApiError, badRequest, forbidden, internalError, notFound } from '../errors.ts';
import { jsonPatch, PatchError } from '../patch/json.ts';
import type { Json } from '../patch/merge.ts';
import type { Obj } from '../strategies/types.ts';
import { CallError, type CallTarget, post } from './client.ts';
import { type ServiceLookups, TargetError, webhookTarget } from './target.ts';
import { evaluateMatchConditions } from './match-conditions.ts';
import { admitPolicies, type PolicyBinding, type PolicyParams } from './policy.ts';
import { inVersion, type MatchedAs, matchTarget } from './equivalent.ts';
import { fromLabelSelector, type Requirement } from '../selectors.ts';
import { namespaceToCheck, objectSelectorMatches, type RequestTarget, rulesMatch, selectorMatches } from './match.ts';
import { admissionReview, type ReviewResponse, type ReviewStatus, type ReviewTarget, verifyResponse } from './review.ts';
import type { WebhookSource } from './source.ts';
import type { Operation, Webhook } from './types.ts';

/** The objects of a policy's paramKind (undefined when no such kind is served). */
export interface ParamSource {
  namespaced: boolean;
  get(namespace: string | undefined, name: string): Promise<Obj | undefined>;
  list(namespace: string | undefined, selector: Requirement[]): Promise<Obj[]>;
}

export interface WebhookLookups extends ServiceLookups {
  namespace(name: string): Promise<Obj | undefined>;
  /** the served resource of a paramKind */
  paramKind?(apiVersion: string, kind: string): ParamSource | undefined;
}

/** What a request is about, fixed by the handler before the store runs. */
export interface RequestScope extends ReviewTarget {
  /** the Warning headers the webhooks asked for */
  warnings: string[];
  /** CreateOptions / UpdateOptions / DeleteOptions of the request, by operation (none for CONNECT) */
  options(op: Operation): Record<string, unknown> | undefined;
}

/** The request's webhooks, as crud.ts calls them. */
export interface WebhookAdmission {
  /** returns the object after the mutating webhooks (undefined for a DELETE); `redefault` fills defaults after a patch */
  mutate(op: Operation, obj: Obj | undefined, old: Obj | undefined, redefault?: (o: Obj) => void): Promise<Obj | undefined>;
  validate(op: Operation, obj: Obj | undefined, old: Obj | undefined): Promise<void>;
}

const EXEMPT_GROUP = 'admissionregistration.k8s.io';

/** upstream's webhookerrors.ToStatusErr */
function denial(name: string, result: ReviewStatus | undefined): ApiError {
  const r = result ?? {};
  const by = `admission webhook ${JSON.stringify(name)} denied the request`;
  const message = r.message ? `${by}: ${r.message}` : r.reason ? `${by}: ${r.reason}` : `${by} without explanation`;
  const code = typeof r.code === 'number' && r.code >= 400 ? r.code : 400;
  return new ApiError(code, typeof r.reason === 'string' ? r.reason : '', message, r.details);
}

/** A webhook that applies, and the version it matched the request as when not the request's own (matchPolicy Equivalent). */
interface Matched {
  hook: Webhook;
  matchedAs?: MatchedAs;
}

/** A failed call (no answer, an unusable one): failurePolicy decides. */
class CallFailure extends Error {}

/** failurePolicy Ignore goes on (undefined); Fail answers 500 with upstream's message. */
function failed(h: Webhook, e: CallFailure): undefined {
  if (h.failurePolicy === 'Ignore') return undefined;
  throw internalError(new Error(`failed calling webhook ${JSON.stringify(h.name)}: ${e.message}`));
}

export class WebhookDispatcher {
  constructor(
    private readonly source: Pick<WebhookSource, 'webhooks'>,
    private readonly lookups: WebhookLookups,
  ) {}

  /** The request's webhooks; undefined when none could apply (configurations themselves, none configured). */
  forRequest(scope: RequestScope): WebhookAdmission | undefined {
    if (scope.group === EXEMPT_GROUP) return undefined;
    const set = this.source.webhooks;
    if (!set.mutating.length && !set.validating.length && !set.policies.length) return undefined;
    return {
      mutate: (op, obj, old, redefault) => this.mutate(set.mutating, scope, op, obj, old, redefault),
      validate: async (op, obj, old) => {
        await this.policies(set.policies, scope, op, obj, old);
        await this.validate(set.validating, scope, op, obj, old);
      },
    };
  }

  private target(scope: RequestScope, op: Operation, obj: Obj | undefined, old: Obj | undefined): RequestTarget {
    const meta = obj?.metadata ?? old?.metadata;
    const isNamespace = scope.group === '' && scope.resource === 'namespaces';
    const namespace = isNamespace ? (meta?.name ?? scope.name) : (meta?.namespace ?? scope.namespace);
    return { operation: op, group: scope.group, version: scope.version, resource: scope.resource, subresource: scope.subresource, namespace: namespace ?? '' };
  }

  /**
   * The webhooks that apply, in order (a missing namespace is a 404, as upstream's namespace
   * matcher says), their matchConditions last, over the request the webhook would receive.
   */
  private async matching(hooks: Webhook[], scope: RequestScope, t: RequestTarget, obj: Obj | undefined, old: Obj | undefined): Promise<Matched[]> {
    const out: Matched[] = [];
    let nsLabels: Record<string, string> | undefined;
    for (const h of hooks) {
      const hit = matchTarget((x) => rulesMatch(h, x), t, h.matchPolicy);
      if (!hit || !objectSelectorMatches(h, obj, old)) continue;
      const ns = namespaceToCheck(h, t);
      if (ns !== undefined) {
        if (!nsLabels) {
          // a Namespace's own labels decide on its create and update
          const own = t.group === '' && t.resource === 'namespaces' && !t.subresource && (t.operation === 'CREATE' || t.operation === 'UPDATE');
          const n = own ? obj : await this.lookups.namespace(ns);
          if (!n) throw notFound({ group: '', plural: 'namespaces' }, ns);
          nsLabels = n.metadata.labels ?? {};
        }
        if (!selectorMatches(h.namespaceSelector, nsLabels)) continue;
      }
      if (h.matchConditions?.length) {
        const m = evaluateMatchConditions(h, obj, old, this.reviewRequest(scope, t.operation, obj, old));
        if (m.error !== undefined)
          throw forbidden({ group: scope.group, plural: scope.resource }, obj?.metadata?.name ?? old?.metadata?.name ?? scope.name, m.error);
        if (!m.call) continue;
      }
      out.push({ hook: h, matchedAs: hit.matchedAs });
    }
    return out;
  }

  private async mutate(
    hooks: Webhook[],
    scope: RequestScope,
    op: Operation,
    obj: Obj | undefined,
    old: Obj | undefined,
    redefault?: (o: Obj) => void,
  ): Promise<Obj | undefined> {
    const t = this.target(scope, op, obj, old);
    // mutating webhooks are called for their exact rules only: a patch to a converted object is not converted back
    const matched = (await this.matching(hooks, scope, t, obj, old)).filter((m) => !m.matchedAs).map((m) => m.hook);
    let cur = obj;
    const again = new Set<Webhook>();
    const run = async (h: Webhook) => {
      const before = JSON.stringify(cur);
      const r = await this.invoke(h, scope, op, cur, old, true);
      if (!r) return false;
      if (!r.allowed) throw denial(h.name, r.result);
      if (r.patch && cur) {
        if (r.patchType !== 'JSONPatch') return failed(h, new CallFailure(`unsupported patch type ${JSON.stringify(r.patchType)}`)) ?? false;
        cur = applyReviewPatch(h.name, r.patch, cur, redefault);
      }
      return JSON.stringify(cur) !== before;
    };
    for (const [i, h] of matched.entries()) {
      if (await run(h)) for (const earlier of matched.slice(0, i)) if (earlier.reinvocationPolicy === 'IfNeeded') again.add(earlier);
    }
    // reinvoked once at most, in order, when a later webhook changed the object
    for (const h of matched) if (again.has(h)) await run(h);
    return cur;
  }

  /** ValidatingAdmissionPolicies run before the validating webhooks, as upstream's plugin order. */
  private async policies(pairs: PolicyBinding[], scope: RequestScope, op: Operation, obj: Obj | undefined, old: Obj | undefined): Promise<void> {
    if (!pairs.length) return;
    const t = this.target(scope, op, obj, old);
    const isNamespace = t.group === '' && t.resource === 'namespaces';
    const namespaceObject = t.namespace && !isNamespace ? await this.lookups.namespace(t.namespace) : isNamespace ? (obj ?? old) : undefined;
    const name = obj?.metadata?.name ?? old?.metadata?.name ?? scope.name;
    const request = this.reviewRequest(scope, op, obj, old);
    const params = new Map<PolicyBinding, PolicyParams>();
    for (const pb of pairs) if (pb.policy.spec?.paramKind && pb.binding.spec?.paramRef) params.set(pb, await this.params(pb, t.namespace));
    scope.warnings.push(
      ...admitPolicies(
        pairs,
        { target: t, name, object: obj, oldObject: old, request, namespaceObject },
        { group: scope.group, plural: scope.resource },
        params,
      ),
    );
  }

  /** upstream's collectParams: the params a binding's paramRef names or selects, in its namespace or the request's. */
  private async params(pb: PolicyBinding, requestNamespace: string): Promise<PolicyParams> {
    const kind = pb.policy.spec!.paramKind!;
    const ref = pb.binding.spec!.paramRef!;
    const src = this.lookups.paramKind?.(kind.apiVersion ?? '', kind.kind ?? '');
    if (!src) {
      const [g, v] = (kind.apiVersion ?? '').includes('/') ? (kind.apiVersion ?? '').split('/') : ['', kind.apiVersion ?? ''];
      return { error: `failed to find resource referenced by paramKind: '${g}/${v}, Kind=${kind.kind ?? ''}'` };
    }
    let ns: string | undefined;
    if (src.namespaced) {
      ns = ref.namespace || requestNamespace;
      if (!ns) return { error: 'cannot use namespaced paramRef in policy binding that matches cluster-scoped resources' };
    }
    const found = ref.name ? [await src.get(ns, ref.name)].filter((x): x is Obj => !!x) : await src.list(ns, fromLabelSelector(ref.selector));
    if (found.length || ref.parameterNotFoundAction === 'Allow') return { params: found };
    return { error: 'no params found for policy binding with `Deny` parameterNotFoundAction' };
  }

  private async validate(hooks: Webhook[], scope: RequestScope, op: Operation, obj: Obj | undefined, old: Obj | undefined): Promise<void> {
    const matched = await this.matching(hooks, scope, this.target(scope, op, obj, old), obj, old);
    const convert = (o: Obj | undefined, as: MatchedAs | undefined) => (as ? inVersion(o, scope.group, scope.resource, as.version) : o);
    const outcomes = await Promise.allSettled(
      matched.map(async ({ hook: h, matchedAs }) => {
        const r = await this.invoke(h, scope, op, convert(obj, matchedAs), convert(old, matchedAs), false, matchedAs);
        if (r && !r.allowed) throw denial(h.name, r.result);
      }),
    );
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  }

  /** One webhook call; undefined when it failed and its failurePolicy is Ignore. */
  private async invoke(
    h: Webhook,
    scope: RequestScope,
    op: Operation,
    obj: Obj | undefined,
    old: Obj | undefined,
    mutating: boolean,
    matchedAs?: MatchedAs,
  ): Promise<ReviewResponse | undefined> {
    if (scope.dryRun && h.sideEffects !== 'None' && h.sideEffects !== 'NoneOnDryRun')
      throw badRequest(`admission webhook ${JSON.stringify(h.name)} does not support dry run`);
    try {
      const r = await this.call(h, mutating, (uid, version) => this.review(scope, op, obj, old, uid, version, matchedAs));
      scope.warnings.push(...r.warnings);
      return r;
    } catch (e) {
      if (!(e instanceof CallFailure)) throw e;
      return failed(h, e);
    }
  }

  /** Posts the review `build` makes for the uid and AdmissionReview version, and checks the answer. */
  private async call(h: Webhook, mutating: boolean, build: (uid: string, version: string) => Record<string, unknown>): Promise<ReviewResponse> {
    const version = (h.admissionReviewVersions ?? []).find((v) => v === 'v1' || v === 'v1beta1');
    if (!version) throw new CallFailure('webhook does not accept known AdmissionReview versions (v1, v1beta1)');
    const timeoutSeconds = h.timeoutSeconds ?? 10;
    const target = await this.resolve(h, timeoutSeconds);
    const uid = randomUUID();
    const review = build(uid, version);
    let text: string;
    try {
      text = await post(target, JSON.stringify(review), timeoutSeconds * 1000);
    } catch (e) {
      if (e instanceof CallError)
        throw new CallFailure(`${e.message.startsWith('unable to load root') ? 'could not get REST client' : 'failed to call webhook'}: ${e.message}`);
      throw e;
    }
    try {
      return verifyResponse(text, uid, version, mutating);
    } catch (e) {
      const decode = (e as { decode?: boolean }).decode;
      throw new CallFailure(`${decode ? 'failed to call webhook' : 'received invalid webhook response'}: ${(e as Error).message}`);
    }
  }

  private review(
    scope: RequestScope,
    op: Operation,
    obj: Obj | undefined,
    old: Obj | undefined,
    uid: string,
    version: string,
    matchedAs?: MatchedAs,
  ): Record<string, unknown> {
    const meta = obj?.metadata ?? old?.metadata;
    return admissionReview(
      {
        ...scope,
        uid,
        name: meta?.name ?? scope.name,
        namespace: meta?.namespace ?? scope.namespace,
        operation: op,
        object: obj,
        oldObject: old,
        options: scope.options(op),
        matchedAs,
      },
      version,
    );
  }

  /** The AdmissionRequest matchConditions read as `request` (upstream's CreateAdmissionRequest: no uid). */
  private reviewRequest(scope: RequestScope, op: Operation, obj: Obj | undefined, old: Obj | undefined): unknown {
    const { uid: _uid, object: _o, oldObject: _old, ...request } = this.review(scope, op, obj, old, '', 'v1').request as Record<string, unknown>;
    return request;
  }

  /** Where the call goes (target.ts); a Service without a usable endpoint is a failed call. */
  private async resolve(h: Webhook, timeoutSeconds: number): Promise<CallTarget> {
    try {
      return await webhookTarget(h.clientConfig ?? {}, `timeout=${timeoutSeconds}s`, this.lookups);
    } catch (e) {
      if (e instanceof TargetError) throw new CallFailure(`failed to call webhook: ${e.message}`);
      throw e;
    }
  }
}

/** The object after a mutating webhook's JSONPatch, defaulted again (upstream decodes it with defaulting). */
function applyReviewPatch(name: string, patch: string, obj: Obj, redefault?: (o: Obj) => void): Obj {
  let ops: unknown;
  try {
    ops = JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));
  } catch (e) {
    throw internalError(e);
  }
  let next: unknown;
  try {
    next = jsonPatch(obj as Json, ops);
  } catch (e) {
    if (e instanceof PatchError || e instanceof ApiError) throw internalError(e);
    throw e;
  }
  if (typeof next !== 'object' || next === null || Array.isArray(next))
    throw internalError(new Error(`admission webhook ${JSON.stringify(name)} patched the object into a non-object`));
  const out = next as Obj;
  out.metadata ??= {};
  redefault?.(out);
  return out;
}
