// The generic registry store: CRUD of one resource type over the revisioned Store, with the API's
// object semantics (uid, generateName, creationTimestamp, generation, resourceVersion = store
// revision, optimistic concurrency, status subresource split, graceful deletion and finalizers).
// Every write path (HTTP, in-process clients, subresources) ends in commit(), so nothing skips
// defaulting or validation.
import { randomUUID } from 'node:crypto';
import { CompactedError, ConflictError, FutureRevisionError, KeyExistsError, KeyNotFoundError, type KeyValue, type Store } from '../storage/types.ts';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  forbidden,
  gone,
  type GroupResource,
  invalid,
  notFound,
  staleConflict,
  tooLargeResourceVersion,
} from './errors.ts';
import { apiVersionOf, type ResourceInfo, storageKey } from './registry.ts';
import { type FieldRequirement, matchFields, matchLabels, type Requirement } from './selectors.ts';
import { decodeContinue, encodeContinue, planDeletion, withPropagationFinalizers } from './lifecycle.ts';
import { isoNow, type Obj, type Strategy, type StrategyContext } from './strategies/types.ts';
import { canon } from './validation/pod.ts';
import { StoredItems, withResourceVersion } from './list-body.ts';
import { trackUpdate } from './apply/managed.ts';
import { forbidden as forbiddenField, type FieldError } from './validation/field.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation/meta.ts';
import type { WebhookAdmission } from './admission/dispatcher.ts';

export interface ListQuery {
  labels?: Requirement[];
  fields?: FieldRequirement[];
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface SelectorAttrs {
  labels: Record<string, string> | undefined;
  fields: Record<string, string>;
}

export interface ListOut {
  items: Obj[];
  resourceVersion: string;
  continue?: string;
  /** how many items the rest of the list holds (only for lists without selectors, as upstream) */
  remainingItemCount?: number;
  /** with `raw`: the items as JSON texts, decoded into `items` only when read */
  stored?: StoredItems;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** the field manager to record in metadata.managedFields (absent: not tracked) */
  manager?: string;
  /** the body comes from a server-side apply, which set managedFields itself */
  applied?: boolean;
  /**
   * Validating admission of the request (NodeRestriction): sees the object as it would be stored,
   * after the strategy, and the current one (undefined on create); throws to refuse.
   */
  admit?: (next: Obj, cur: Obj | undefined) => void;
  /** the request's admission webhooks: mutating after defaulting, validating after validation */
  webhooks?: WebhookAdmission;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  /** what happens to dependents (ownerReferences): the garbage collector acts on the finalizers */
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
}

export interface StoreDeps {
  store: Store;
  ctx: StrategyContext;
  /** the namespace object, for the NamespaceLifecycle admission check */
  namespace(name: string): Promise<Obj | undefined>;
}

/** A delete's uid and resourceVersion preconditions against the stored object (409 Conflict, upstream's wording). */
export function checkPreconditions(gr: GroupResource, cur: Obj, pre: DeleteOptions['preconditions']): void {
  const name = cur.metadata.name!;
  if (pre?.uid && pre.uid !== cur.metadata.uid)
    throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
  if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
    throw conflict(
      gr,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
    );
}

const MAX_RETRIES = 5;
/** a list hands the event loop back after this much work (ms) */
const LIST_SLICE_MS = 10;
const SUFFIX_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX_CHARS[Math.floor(Math.random() * SUFFIX_CHARS.length)];
  return s;
}

export class ResourceStore {
  constructor(
    readonly res: ResourceInfo,
    readonly strategy: Strategy,
    private readonly deps: StoreDeps,
  ) {}

  get gr() {
    return { group: this.res.group, plural: this.res.plural };
  }

  prefix(ns?: string): string {
    return storageKey(this.res, ns);
  }

  key(ns: string | undefined, name: string): string {
    return storageKey(this.res, ns, name);
  }

  decode(kv: KeyValue): Obj {
    const o = JSON.parse(kv.value) as Obj;
    o.metadata.resourceVersion = String(kv.modRevision);
    this.strategy.fromStorage?.(o);
    return o;
  }

  /** Stored objects as the served version reads them (decode, then a conversion webhook if any). */
  async readAll(kvs: KeyValue[]): Promise<Obj[]> {
    const objs = kvs.map((kv) => this.decode(kv));
    return this.strategy.convertFromStorage ? this.strategy.convertFromStorage(objs) : objs;
  }

  async read(kv: KeyValue): Promise<Obj> {
    return (await this.readAll([kv]))[0];
  }

  /** The text to store: the object in the storage version (a conversion webhook if any). */
  private async encodeForStorage(o: Obj): Promise<string> {
    return this.encode(this.strategy.convertToStorage ? await this.strategy.convertToStorage(o) : o);
  }

  private encode(o: Obj): string {
    const { resourceVersion: _rv, selfLink: _sl, ...meta } = o.metadata;
    return JSON.stringify({ ...o, metadata: meta });
  }

  finalizers(o: Obj): string[] {
    return [...(o.metadata.finalizers ?? []), ...(this.strategy.extraFinalizers?.(o) ?? [])];
  }

  matcher(q: ListQuery): (o: Obj) => boolean {
    const labels = q.labels ?? [];
    const fields = q.fields ?? [];
    if (!labels.length && !fields.length) return () => true;
    return (o) => {
      if (!matchLabels(labels, o.metadata.labels)) return false;
      if (!fields.length) return true;
      return matchFields(fields, this.selectableFields(o));
    };
  }

  private selectableFields(o: Obj): Record<string, string> {
    return { 'metadata.name': o.metadata.name ?? '', 'metadata.namespace': o.metadata.namespace ?? '', ...this.strategy.selectableFields?.(o) };
  }

  /** What selectors read of an object: kept per object version by the watch cache, not the object. */
  selectorAttrs(o: Obj): SelectorAttrs {
    return { labels: o.metadata.labels, fields: this.selectableFields(o) };
  }

  /** The matcher of `matcher` over selectorAttrs. */
  attrsMatcher(q: ListQuery): (a: SelectorAttrs) => boolean {
    const labels = q.labels ?? [];
    const fields = q.fields ?? [];
    return (a) => matchLabels(labels, a.labels) && (!fields.length || matchFields(fields, a.fields));
  }

  /** Field selectors on fields this type cannot select by are a 400, as upstream. */
  checkFields(fields: FieldRequirement[] | undefined): void {
    if (!fields?.length) return;
    const probe = { metadata: {} } as Obj;
    const known = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(this.strategy.selectableFields?.(probe) ?? {})]);
    for (const f of fields) if (!known.has(f.field)) throw badRequest(`field label not supported: ${f.field}`);
  }

  async getWithRev(ns: string | undefined, name: string): Promise<{ obj: Obj; rev: number }> {
    const kv = await this.deps.store.get(this.key(ns, name));
    if (!kv) throw notFound(this.gr, name);
    return { obj: await this.read(kv), rev: kv.modRevision };
  }

  async get(ns: string | undefined, name: string): Promise<Obj> {
    return (await this.getWithRev(ns, name)).obj;
  }

  /** The JSON text of a stored object with its resourceVersion, without decoding it if it can. */
  text(kv: KeyValue): string {
    const spliced = this.strategy.fromStorage ? undefined : withResourceVersion(kv.value, kv.modRevision);
    return spliced ?? JSON.stringify(this.decode(kv));
  }

  /**
   * A list; with `raw` and no selectors, the items stay JSON texts (ListOut.stored) until someone
   * reads `items`, so a list that is only sent out is never decoded and re-encoded.
   */
  async list(ns: string | undefined, q: ListQuery = {}, o: { raw?: boolean } = {}): Promise<ListOut> {
    this.checkFields(q.fields);
    const base = this.prefix(undefined);
    const prefix = this.prefix(ns);
    let revision: number | undefined;
    let startAfter: string | undefined;
    if (q.continue) {
      const t = decodeContinue(q.continue);
      revision = t.rv;
      startAfter = base + t.start;
    } else if (q.resourceVersionMatch === 'Exact' && q.resourceVersion) revision = Number(q.resourceVersion);
    const match = this.matcher(q);
    const texts = o.raw && !q.labels?.length && !q.fields?.length && !this.strategy.convertFromStorage ? ([] as string[]) : undefined;
    const limit = q.limit && q.limit > 0 ? q.limit : 0;
    const items: Obj[] = [];
    const taken = () => (texts ?? items).length;
    let lastKey: string | undefined;
    let more = false;
    let remaining: number | undefined;
    try {
      for (let round = 0; ; round++) {
        const page = await this.deps.store.list(prefix, { limit: limit || undefined, startAfter, revision });
        revision = page.revision;
        let slice = performance.now();
        // a conversion webhook gets the page at once (one ConversionReview), before the selectors
        const converted = !texts && this.strategy.convertFromStorage ? await this.readAll(page.items) : undefined;
        for (const [i, kv] of page.items.entries()) {
          // thousands of objects take long: let other requests run now and then
          if (performance.now() - slice > LIST_SLICE_MS) {
            await new Promise((r) => setImmediate(r));
            slice = performance.now();
          }
          if (texts) texts.push(this.text(kv));
          else {
            const obj = converted ? converted[i] : this.decode(kv);
            if (!match(obj)) continue;
            items.push(obj);
          }
          lastKey = kv.key;
          if (limit && taken() >= limit) {
            remaining = page.remaining + page.items.length - i - 1;
            break;
          }
        }
        if (!limit) break;
        if (taken() >= limit) {
          more = page.more || page.items[page.items.length - 1].key !== lastKey;
          break;
        }
        if (!page.more) break;
        startAfter = page.items[page.items.length - 1].key;
      }
    } catch (e) {
      if (e instanceof CompactedError) {
        throw q.continue
          ? gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.')
          : gone(`too old resource version: ${q.resourceVersion} (${e.compacted})`);
      }
      if (e instanceof FutureRevisionError) throw tooLargeResourceVersion(e.requested, e.current);
      throw e;
    }
    let out: ListOut = { items, resourceVersion: String(revision) };
    if (texts) {
      const stored = new StoredItems(texts);
      out = {
        get items() {
          return stored.items;
        },
        set items(v: Obj[]) {
          stored.items = v;
        },
        resourceVersion: String(revision),
        stored,
      };
    }
    if (more && lastKey) {
      out.continue = encodeContinue(revision!, lastKey.slice(base.length));
      if (!q.labels?.length && !q.fields?.length && remaining) out.remainingItemCount = remaining;
    }
    return out;
  }

  private async checkNamespace(ns: string): Promise<void> {
    const n = await this.deps.namespace(ns);
    if (!n) throw notFound({ group: '', plural: 'namespaces' }, ns);
    if (n.metadata.deletionTimestamp || n.status?.phase === 'Terminating') {
      throw forbidden(this.gr, '', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  private validateAll(o: Obj): FieldError[] {
    return [...validateObjectMeta(o.metadata, this.res.namespaced, this.res.nameRule), ...(this.strategy.validate?.(o) ?? [])];
  }

  private invalid(o: Obj, errs: FieldError[]): ApiError {
    return invalid(this.res.kind, this.res.group, o.metadata.name ?? o.metadata.generateName ?? '', errs);
  }

  /** Fills apiVersion/kind and the namespace from the request, rejecting mismatches. */
  normalize(ns: string | undefined, o: Obj): void {
    o.metadata ??= {};
    const want = apiVersionOf(this.res);
    if (o.apiVersion && o.apiVersion !== want)
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${want})`);
    if (o.kind && o.kind !== this.res.kind) throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (${this.res.kind})`);
    o.apiVersion = want;
    o.kind = this.res.kind;
    if (this.res.namespaced) {
      if (o.metadata.namespace && ns && o.metadata.namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      o.metadata.namespace = ns ?? o.metadata.namespace;
    }
  }

  async create(ns: string | undefined, o: Obj, opts: WriteOptions = {}): Promise<Obj> {
    this.normalize(ns, o);
    let m = o.metadata;
    if (m.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (this.res.namespaced && m.namespace && !opts.dryRun) await this.checkNamespace(m.namespace);
    if (!m.name && m.generateName) m.name = m.generateName + randomSuffix();
    const now = this.deps.ctx.now();
    m.uid = randomUUID();
    m.creationTimestamp = isoNow(now);
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    if (this.res.generation) m.generation = 1;
    else delete m.generation;
    this.strategy.defaults?.(o);
    if (opts.webhooks) {
      o = (await opts.webhooks.mutate('CREATE', o, undefined, (x) => this.strategy.defaults?.(x))) ?? o;
      m = o.metadata;
    }
    this.strategy.prepareForCreate?.(o);
    if (opts.manager && !opts.applied && !m.managedFields?.length) m.managedFields = trackUpdate(undefined, o, this.res.model, this.writer(opts.manager));
    const errs = [...this.validateAll(o), ...(this.strategy.validateCreate?.(o) ?? [])];
    if (errs.length) throw this.invalid(o, errs);
    opts.admit?.(o, undefined);
    await opts.webhooks?.validate('CREATE', o, undefined);
    const key = this.key(m.namespace, m.name!);
    // a duplicate is AlreadyExists, whatever else (allocations, a dry run) would do: check first
    // when something would happen before the store's own create-if-absent says so
    if ((this.strategy.beforeCreate || opts.dryRun) && (await this.deps.store.get(key))) throw alreadyExists(this.gr, m.name!);
    await this.strategy.beforeCreate?.(o, this.deps.ctx);
    if (opts.dryRun) return o;
    try {
      const kv = await this.deps.store.create(key, await this.encodeForStorage(o));
      return await this.read(kv);
    } catch (e) {
      if (e instanceof KeyExistsError) throw alreadyExists(this.gr, m.name!);
      throw e;
    }
  }

  /** PUT: replace the object (or its status / finalizers through a subresource). */
  async update(ns: string | undefined, name: string, body: Obj, opts: WriteOptions & { subresource?: string } = {}): Promise<{ obj: Obj; created: boolean }> {
    this.normalize(ns, body);
    body.metadata.name ||= name;
    if (body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    const kv = await this.deps.store.get(this.key(ns, name));
    if (!kv) {
      if (this.res.allowCreateOnUpdate && !opts.subresource) {
        delete body.metadata.resourceVersion;
        return { obj: await this.create(ns, body, opts), created: true };
      }
      throw notFound(this.gr, name);
    }
    const cur = await this.read(kv);
    const wantRV = body.metadata.resourceVersion;
    if (wantRV && wantRV !== cur.metadata.resourceVersion) throw staleConflict(this.gr, name);
    return { obj: await this.commit(cur, kv.modRevision, this.merge(cur, body, opts.subresource), opts), created: false };
  }

  /**
   * Read-modify-write with retries on conflicts: the basis of PATCH and of internal updates such
   * as pods/binding. `internal` skips the user-facing update rules (e.g. pod spec immutability).
   */
  async guaranteedUpdate(
    ns: string | undefined,
    name: string,
    mutate: (cur: Obj) => Obj | Promise<Obj>,
    opts: WriteOptions & { subresource?: string; internal?: boolean } = {},
  ): Promise<Obj> {
    for (let attempt = 0; ; attempt++) {
      const { obj: cur, rev } = await this.getWithRev(ns, name);
      const body = await mutate(structuredClone(cur));
      this.normalize(ns, body);
      if (body.metadata.name !== name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
      const wantRV = body.metadata.resourceVersion;
      if (wantRV && wantRV !== cur.metadata.resourceVersion) throw staleConflict(this.gr, name);
      try {
        const next = opts.internal ? body : this.merge(cur, body, opts.subresource);
        return await this.commit(cur, rev, next, { ...opts, skipUpdateRules: opts.internal, manager: opts.internal ? undefined : opts.manager });
      } catch (e) {
        // a concurrent writer won: retry against the new state unless the caller pinned a version
        if (e instanceof ApiError && e.reason === 'Conflict' && !wantRV && attempt < MAX_RETRIES && (e as ApiError & { retriable?: boolean }).retriable)
          continue;
        throw e;
      }
    }
  }

  /** The object a write proposes, with server-owned fields carried over from the current one. */
  private merge(cur: Obj, body: Obj, subresource?: string): Obj {
    if (body.metadata.uid && body.metadata.uid !== cur.metadata.uid)
      throw conflict(this.gr, cur.metadata.name!, `Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${cur.metadata.uid}`);
    if (subresource === 'status') {
      // upstream's status strategies reset spec only: label and annotation changes go through
      // (apps/v1 kinds keep their labels, as their status strategies reset those too)
      const next = structuredClone(cur);
      next.status = body.status;
      next.metadata.resourceVersion = body.metadata.resourceVersion;
      for (const f of ['labels', 'annotations'] as const) {
        if (f === 'labels' && this.res.group === 'apps') continue;
        if (f in body.metadata) next.metadata[f] = body.metadata[f];
      }
      return next;
    }
    if (subresource === 'ephemeralcontainers') {
      // upstream's dropNonEphemeralContainerUpdates: only the list changes
      const next = structuredClone(cur);
      next.spec = { ...(next.spec ?? {}), ephemeralContainers: body.spec?.ephemeralContainers };
      if (!next.spec.ephemeralContainers) delete next.spec.ephemeralContainers;
      next.metadata.resourceVersion = body.metadata.resourceVersion;
      return next;
    }
    if (subresource === 'finalize') {
      const next = structuredClone(cur);
      next.spec = { ...(next.spec ?? {}), finalizers: body.spec?.finalizers ?? [] };
      return next;
    }
    const next = body;
    const m = next.metadata;
    m.uid = cur.metadata.uid;
    m.creationTimestamp = cur.metadata.creationTimestamp;
    for (const f of ['deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (cur.metadata[f] !== undefined) (m as Record<string, unknown>)[f] = cur.metadata[f];
      else delete m[f];
    }
    if (this.res.subresources.includes('status')) {
      if (cur.status !== undefined) next.status = cur.status;
      else delete next.status;
    }
    return next;
  }

  private writer(manager: string, subresource?: string) {
    return { manager, apiVersion: apiVersionOf(this.res), subresource, now: this.deps.ctx.now() };
  }

  private async commit(cur: Obj, rev: number, next: Obj, opts: WriteOptions & { skipUpdateRules?: boolean; subresource?: string }): Promise<Obj> {
    const name = cur.metadata.name!;
    this.strategy.defaults?.(next);
    if (opts.webhooks) next = (await opts.webhooks.mutate('UPDATE', next, cur, (x) => this.strategy.defaults?.(x))) ?? next;
    this.strategy.prepareForUpdate?.(next, cur);
    // a body may reset managedFields; one that leaves them out keeps what the object had
    if (!next.metadata.managedFields?.length) next.metadata.managedFields = cur.metadata.managedFields;
    if (opts.manager && !opts.applied) {
      const base = { ...cur, metadata: { ...cur.metadata, managedFields: next.metadata.managedFields } };
      next.metadata.managedFields = trackUpdate(base, next, this.res.model, this.writer(opts.manager, opts.subresource));
    }
    if (!next.metadata.managedFields?.length) delete next.metadata.managedFields;
    // internal writes (pods/binding) set server-owned fields and are not spec changes by a user
    if (this.res.generation && !next.metadata.deletionTimestamp && !opts.skipUpdateRules) {
      const gen = cur.metadata.generation ?? 1;
      next.metadata.generation = JSON.stringify(canon(next.spec)) !== JSON.stringify(canon(cur.spec)) ? gen + 1 : gen;
    }
    const errs = [...validateObjectMetaUpdate(next.metadata, cur.metadata), ...this.validateAll(next)];
    if (!opts.skipUpdateRules) errs.push(...(this.strategy.validateUpdate?.(next, cur, opts.subresource) ?? []));
    if (cur.metadata.deletionTimestamp) {
      const added = (next.metadata.finalizers ?? []).filter((f) => !(cur.metadata.finalizers ?? []).includes(f));
      if (added.length) errs.push(forbiddenField('metadata.finalizers', 'no new finalizers can be added if the object is being deleted'));
    }
    if (errs.length) throw this.invalid(next, errs);
    opts.admit?.(next, cur);
    await opts.webhooks?.validate('UPDATE', next, cur);
    await this.strategy.beforeUpdate?.(next, cur, this.deps.ctx);
    // the last finalizer is gone from an object that waits for nothing else: remove it
    if (next.metadata.deletionTimestamp && this.finalizers(next).length === 0 && (cur.metadata.deletionGracePeriodSeconds ?? 0) === 0) {
      if (opts.dryRun) return next;
      return this.removeNow(cur, rev);
    }
    if (this.encode(next) === this.encode(cur)) return cur;
    if (opts.dryRun) return next;
    try {
      return await this.read(await this.deps.store.update(this.key(cur.metadata.namespace, name), await this.encodeForStorage(next), rev));
    } catch (e) {
      if (e instanceof ConflictError) throw Object.assign(staleConflict(this.gr, name), { retriable: true });
      if (e instanceof KeyNotFoundError) throw notFound(this.gr, name);
      throw e;
    }
  }

  private async removeNow(cur: Obj, rev: number): Promise<Obj> {
    try {
      const kv = await this.deps.store.delete(this.key(cur.metadata.namespace, cur.metadata.name!), rev);
      return await this.read(kv);
    } catch (e) {
      if (e instanceof ConflictError) throw Object.assign(staleConflict(this.gr, cur.metadata.name!), { retriable: true });
      if (e instanceof KeyNotFoundError) throw notFound(this.gr, cur.metadata.name!);
      throw e;
    }
  }

  /**
   * DELETE. Returns the object and whether it is gone; objects that must wait (graceful pods,
   * finalizers, namespaces) only get deletionTimestamp and deletionGracePeriodSeconds.
   */
  async delete(ns: string | undefined, name: string, opts: DeleteOptions = {}): Promise<{ obj: Obj; gone: boolean }> {
    // mutating webhooks see a DELETE without objects, as upstream's delete handler admits it
    await opts.webhooks?.mutate('DELETE', undefined, undefined);
    for (let attempt = 0; ; attempt++) {
      const { obj: cur, rev } = await this.getWithRev(ns, name);
      try {
        return await this.deleteOnce(cur, rev, opts);
      } catch (e) {
        if (e instanceof ApiError && (e as ApiError & { retriable?: boolean }).retriable && attempt < MAX_RETRIES) continue;
        throw e;
      }
    }
  }

  private async deleteOnce(cur: Obj, rev: number, opts: DeleteOptions): Promise<{ obj: Obj; gone: boolean }> {
    const name = cur.metadata.name!;
    checkPreconditions(this.gr, cur, opts.preconditions);
    const why = this.strategy.undeletable?.(cur);
    if (why) throw forbidden(this.gr, name, why);
    await opts.webhooks?.validate('DELETE', undefined, cur);
    // a first delete records the propagation policy as a finalizer for the garbage collector
    if (!cur.metadata.deletionTimestamp) cur = withPropagationFinalizers(cur, opts.propagationPolicy);
    const plan = planDeletion(cur, {
      grace: this.strategy.gracePeriod ? this.strategy.gracePeriod(cur, opts.gracePeriodSeconds) : 0,
      waiting: this.finalizers(cur).length > 0,
      now: this.deps.ctx.now(),
      generation: !!this.res.generation,
      prepare: this.strategy.prepareForDelete,
    });
    if (plan.action === 'none') return { obj: cur, gone: false };
    if (plan.action === 'remove') {
      if (opts.dryRun) return { obj: cur, gone: true };
      return { obj: await this.removeNow(cur, rev), gone: true };
    }
    if (opts.dryRun) return { obj: plan.next, gone: false };
    try {
      return {
        obj: await this.read(await this.deps.store.update(this.key(cur.metadata.namespace, name), await this.encodeForStorage(plan.next), rev)),
        gone: false,
      };
    } catch (e) {
      if (e instanceof ConflictError) throw Object.assign(staleConflict(this.gr, name), { retriable: true });
      throw e;
    }
  }

  async deleteCollection(ns: string | undefined, q: ListQuery, opts: DeleteOptions = {}): Promise<Obj[]> {
    const { items } = await this.list(ns, { ...q, limit: undefined, continue: undefined });
    const out: Obj[] = [];
    for (const o of items) {
      try {
        const r = await this.delete(o.metadata.namespace, o.metadata.name!, { ...opts, preconditions: undefined });
        out.push(r.obj);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }
}
