// The transport-independent API: one ApiRequest in, one ApiResponse out. The HTTPS server and
// the in-process loopback client both call handle(), so every client goes through the same
// decoding, defaulting, validation and storage code.
import type { Store } from '../storage/types.ts';
import { type Attributes, attributesFor, type UserInfo } from '../auth/attributes.ts';
import { type Authorizer, forbiddenError, type View } from '../auth/authorizer.ts';
import { review } from '../auth/reviews.ts';
import type { BearerAuthenticator } from '../auth/authn.ts';
import { createTokenRequest, type Getter } from '../auth/token-request.ts';
import { JWKS_PATH, jwks, OIDC_CONFIG_PATH, openIDConfiguration } from '../auth/oidc-discovery.ts';
import { impersonatedUser, impersonationChecks, requestedImpersonation } from '../auth/impersonation.ts';
import { ResourceStore, type WriteOptions } from './crud.ts';
import { decodeBody, PATCH_CONTENT_TYPES, mediaType, requireObject } from './body.ts';
import { typedDecode } from './decode.ts';
import { aggregatedContentType, aggregatedDiscovery, aggregatedVersion } from './discovery-aggregated.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import { ApiError, asApiError, badRequest, methodNotSupported, notAcceptable, pathNotFound } from './errors.ts';
import { ApiMetrics } from './metrics.ts';
import { KUBELET_SUBRESOURCES, kubeletTarget, type KubeletTarget } from './kubelet-target.ts';
import { type ProxyResolution, resolveProxy } from './proxy-route.ts';
import { OpenAPIv3 } from './openapi.ts';
import { OpenAPIv2 } from './openapi-v2.ts';
import { messageFor } from './protobuf/decode.ts';
import { patchScale, scaleOf, updateScale } from './subresources.ts';
import { evict } from './eviction.ts';
import type { OutputCtx } from './output.ts';
import { apiVersionOf, type Registry, type ResourceInfo } from './registry.ts';
import { parseAccept, parseIncludeObject, parseResourcePath, type ResourceRequest } from './request.ts';
import { parseLabelSelector, SelectorError } from './selectors.ts';
import { strategyFor } from './strategies/index.ts';
import type { Obj, StrategyContext } from './strategies/types.ts';
import type { WatchOptions } from './watch.ts';
import { getOwn } from './safe-keys.ts';
import { WatchCache } from './watch-cache.ts';
import { fieldManager, ok, unsupportedPatch, type VerbEnv } from './verbs/context.ts';
import { VERB_HANDLERS } from './verbs/index.ts';
import { healthReply } from '../../api/healthz.ts';
import { logger } from '../../api/log.ts';
import { ApiHealth, isHealthEndpoint } from './health.ts';
import { serveMetrics } from '../metrics/api.ts';
import type { MetricsStore } from '../metrics/store.ts';
import { type WebhookAdmission, WebhookDispatcher } from './admission/dispatcher.ts';
import { admittedQuery, CONNECT_KINDS, type ConnectSubresource, connectOptions } from './admission/connect.ts';
import type { ServiceLookups } from './admission/target.ts';
import type { WebhookSource } from './admission/source.ts';
import type { Operation } from './admission/types.ts';
import type { Aggregator } from './aggregator/aggregator.ts';
import type { AggregatedTarget } from './aggregator/proxy.ts';

const healthLog = logger('apiserver-health');

const ALLOW_ALL: Authorizer = { authorize: () => ({ decision: 'allow' }) };

export type { UserInfo } from '../auth/attributes.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body?: Buffer;
  user: UserInfo;
  signal?: AbortSignal;
}

export type ApiResponse =
  | { kind: 'object'; status: number; body: unknown; warnings?: string[] }
  | { kind: 'proxy'; target: KubeletTarget }
  | ProxyResolution
  | { kind: 'raw'; status: number; text: string | Buffer; contentType: string }
  | { kind: 'aggregated'; target: AggregatedTarget }
  | { kind: 'watch'; frames: AsyncIterable<unknown> };

export interface HandlerOptions {
  store: Store;
  registry: Registry;
  serverAddress: string;
  serviceCIDR: string;
  watch?: WatchOptions;
  now?: () => Date;
  /** absent: every authenticated request is allowed (unit tests of the API machinery) */
  authorizer?: Authorizer;
  /** checks of written bodies after authorization (NodeRestriction, RBAC escalation); returns the refusal */
  admit?: (a: Attributes, body: Record<string, any>) => ApiError | undefined | Promise<ApiError | undefined>;
  /** checks of the object an update, patch or apply would store, against the current one (NodeRestriction) */
  admitWrite?: (a: Attributes, next: Record<string, any>, cur: Record<string, any> | undefined) => ApiError | undefined;
  /** bearer tokens: TokenReview answers from it, serviceaccounts/token issues through it (absent: both 404) */
  authn?: BearerAuthenticator;
  /** the checks behind /livez, /readyz, /healthz (absent: ping, log and the store) */
  health?: ApiHealth;
  /** the kubelets' resource metrics behind metrics.k8s.io (absent: 503 as without metrics-server) */
  metrics?: MetricsStore;
  /** the admission webhook configurations (absent: no webhooks are called) */
  webhooks?: WebhookSource;
  /** API aggregation: APIServices with a Service (absent: every group is served here) */
  aggregator?: Aggregator;
}

export class ApiHandler {
  private readonly stores = new Map<ResourceInfo, ResourceStore>();
  /** one watch cache per storage prefix (all versions of a custom resource share one), started by its first watch */
  private readonly caches = new Map<string, WatchCache>();
  private readonly openapi: OpenAPIv3;
  private readonly openapiV2: OpenAPIv2;
  readonly ctx: StrategyContext;
  readonly metrics = new ApiMetrics();
  readonly health: ApiHealth;
  private readonly deps: ConstructorParameters<typeof ResourceStore>[2];
  private readonly webhooks: WebhookDispatcher | undefined;
  /** what the verb handlers (verbs/) may use */
  private readonly verbEnv: VerbEnv;
  /** where webhooks called through a Service (admission, CRD conversion) are reached */
  readonly serviceLookups: ServiceLookups;

  constructor(private readonly o: HandlerOptions) {
    const now = o.now ?? (() => new Date());
    this.health = o.health ?? new ApiHealth(o.store);
    this.ctx = {
      now,
      serviceCIDR: o.serviceCIDR,
      list: async (plural, group = '') => (await this.storeFor(plural, group).list(undefined)).items,
    };
    const deps = {
      store: o.store,
      ctx: this.ctx,
      namespace: async (name: string) => {
        const kv = await o.store.get(this.storeFor('namespaces').key(undefined, name));
        return kv ? (JSON.parse(kv.value) as Obj) : undefined;
      },
    };
    this.deps = deps;
    for (const r of o.registry.resources) this.stores.set(r, new ResourceStore(r, strategyFor(r), deps));
    // a CRD's change replaces its registry entries: their stores go with them
    o.registry.onChange(() => {
      const live = new Set(o.registry.resources);
      for (const r of this.stores.keys()) if (!live.has(r)) this.stores.delete(r);
    });
    // a Service and its EndpointSlices, for the webhooks' (admission, CRD conversion) and the aggregator's backends
    this.serviceLookups = {
      service: (ns, name) =>
        this.storeFor('services')
          .get(ns, name)
          .catch((e: unknown) => {
            if (e instanceof ApiError && e.code === 404) return undefined;
            throw e;
          }),
      slices: async (ns, service) =>
        (await this.storeFor('endpointslices', 'discovery.k8s.io').list(ns, { labels: parseLabelSelector(`kubernetes.io/service-name=${service}`) })).items,
    };
    o.aggregator?.setLookups(this.serviceLookups);
    this.webhooks =
      o.webhooks &&
      new WebhookDispatcher(o.webhooks, {
        namespace: (name) => deps.namespace(name),
        ...this.serviceLookups,
        paramKind: (apiVersion, kind) => {
          const r = o.registry.resources.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind && !x.virtual);
          if (!r) return undefined;
          const rs = this.storeOf(r);
          return {
            namespaced: r.namespaced,
            get: (ns, name) =>
              rs.get(ns, name).catch((e: unknown) => {
                if (e instanceof ApiError && e.code === 404) return undefined;
                throw e;
              }),
            list: async (ns, selector) => (await rs.list(ns, { labels: selector })).items,
          };
        },
      });
    this.openapi = new OpenAPIv3(o.registry);
    this.openapiV2 = new OpenAPIv2(o.registry);
    this.verbEnv = {
      store: o.store,
      registry: o.registry,
      watch: o.watch,
      cacheFor: (prefix) => {
        let cache = this.caches.get(prefix);
        if (!cache) this.caches.set(prefix, (cache = new WatchCache(o.store, prefix)));
        return cache;
      },
      storeFor: (plural, group) => this.storeFor(plural, group),
      admit: o.admit,
      writeAdmission: (attrs) => this.writeAdmission(attrs),
      webhooksFor: (req, rr, res, dryRun, warnings) => this.webhooksFor(req, rr, res, dryRun, warnings),
      now: () => this.ctx.now(),
    };
  }

  /** The address discovery advertises (known only once the server listens). */
  setServerAddress(addr: string): void {
    this.o.serverAddress = addr;
  }

  registryResources(): ResourceInfo[] {
    return this.o.registry.resources;
  }

  storeFor(plural: string, group = ''): ResourceStore {
    const r = this.o.registry.resources.find((x) => x.plural === plural && x.group === group);
    if (!r) throw new Error(`no resource ${plural}.${group}`);
    return this.storeOf(r);
  }

  /** The store of a registry entry (custom resources get theirs when first asked). */
  private storeOf(r: ResourceInfo): ResourceStore {
    let rs = this.stores.get(r);
    if (!rs) this.stores.set(r, (rs = new ResourceStore(r, strategyFor(r), this.deps)));
    return rs;
  }

  /** The registry (custom resources come and go with their CRDs). */
  get registry(): Registry {
    return this.o.registry;
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const started = process.hrtime.bigint();
    let r: ApiResponse;
    try {
      req = await this.impersonate(req);
      const attrs = attributesFor(req.method, req.path, req.query, req.user);
      const view = await this.authorize(attrs);
      r = await this.route(req, attrs, view);
    } catch (e) {
      const err = e instanceof SelectorError ? badRequest(e.message) : asApiError(e);
      r = ok(err.toStatus(), err.code);
    }
    return this.observe(req, r, started);
  }

  private observe(req: ApiRequest, r: ApiResponse, started: bigint): ApiResponse {
    const rr = parseResourcePath(req.method, req.path, req.query);
    if (!rr) return r;
    const labels = { verb: rr.verb, group: rr.group, resource: rr.resource };
    this.metrics.requests.inc({ ...labels, subresource: rr.subresource ?? '', code: String(r.kind === 'object' || r.kind === 'raw' ? r.status : 200) });
    if (r.kind === 'proxy' || r.kind === 'backend' || r.kind === 'redirect' || r.kind === 'aggregated') return r;
    if (r.kind !== 'watch') {
      this.metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      return r;
    }
    const gauge = this.metrics.watchers;
    const frames = r.frames;
    return {
      kind: 'watch',
      frames: (async function* () {
        const open = { ...labels, verb: 'WATCH', subresource: rr.subresource ?? '' };
        gauge.inc(open);
        try {
          yield* frames;
        } finally {
          gauge.dec(open);
        }
      })(),
    };
  }

  /** Impersonate-User / Impersonate-Group (kubectl --as, --as-group), if the requester may. */
  private async impersonate(req: ApiRequest): Promise<ApiRequest> {
    let imp;
    try {
      imp = requestedImpersonation(req.headers);
    } catch (e) {
      throw badRequest((e as Error).message);
    }
    if (!imp) return req;
    for (const a of impersonationChecks(req.user, imp, req.path)) await this.authorize(a);
    return { ...req, user: impersonatedUser(imp) };
  }

  /** Throws the 403 for a request the authorizer does not allow; returns a view if it narrowed it. */
  async authorize(a: Attributes): Promise<View | undefined> {
    if (!this.o.authorizer) return undefined;
    const d = await this.o.authorizer.authorize(a);
    if (d.decision === 'allow') return d.view;
    throw d.error ?? forbiddenError(a, d.reason);
  }

  private async metricsText(): Promise<string> {
    const m = this.metrics;
    m.storageRevision.set(await this.o.store.currentRevision());
    m.storageCompacted.set(await this.o.store.compactedRevision());
    const sized = this.o.store as { sizeBytes?: () => number };
    if (sized.sizeBytes) m.storageBytes.set(sized.sizeBytes());
    return m.registry.metrics();
  }

  private async route(req: ApiRequest, attrs: Attributes, view: View | undefined): Promise<ApiResponse> {
    const path = req.path.replace(/\/+$/, '') || '/';
    const reg = this.o.registry;
    const health = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(path);
    if (health && isHealthEndpoint(health[1]!)) {
      const r = await healthReply(health[1]!, this.health.checks(health[1]!), health[2] ?? '', req.query, (failed) =>
        healthLog.warn({ failed }, `${health[1]} check failed`),
      );
      if (!r) throw pathNotFound();
      return { kind: 'raw', status: r.status, text: r.body, contentType: r.headers['Content-Type']! };
    }
    const agg = await this.o.aggregator?.route(path, req.query.size ? `?${req.query}` : '', req.user);
    // upstream's proxyHandler answers an APIService that is not Available with a plain-text 503
    if (agg)
      return agg.kind === 'proxy'
        ? { kind: 'aggregated', target: agg.target }
        : { kind: 'raw', status: 503, text: 'service unavailable\n', contentType: 'text/plain; charset=utf-8' };
    if (req.method !== 'GET' && !path.startsWith('/api')) throw methodNotSupported({ group: '', plural: path }, req.method);
    switch (path) {
      case '/version':
        return ok(SERVER_VERSION);
      case '/api':
      case '/apis': {
        const v = aggregatedVersion(req.headers['accept']);
        const agg = path === '/apis' ? this.o.aggregator : undefined;
        if (v) {
          const doc = aggregatedDiscovery(reg, path === '/api', v);
          return { kind: 'raw', status: 200, text: JSON.stringify(agg ? agg.aggregatedDiscovery(doc) : doc), contentType: aggregatedContentType(v) };
        }
        return ok(path === '/api' ? apiVersions(this.o.serverAddress) : agg ? agg.groupList(apiGroupList(reg)) : apiGroupList(reg));
      }
      case '/metrics':
        return { kind: 'raw', status: 200, text: await this.metricsText(), contentType: this.metrics.registry.contentType };
      case '/openapi/v3':
        return {
          kind: 'raw',
          status: 200,
          text: this.o.aggregator ? this.o.aggregator.openAPIIndex(this.openapi.index()) : this.openapi.index(),
          contentType: 'application/json',
        };
      case '/openapi/v2':
        return this.openapiV2.respond(req.headers['accept']);
      case OIDC_CONFIG_PATH:
      case JWKS_PATH: {
        const sa = this.o.authn?.serviceAccounts;
        if (!sa) throw pathNotFound();
        if (path === JWKS_PATH) return { kind: 'raw', status: 200, text: JSON.stringify(jwks(sa.signingKey)), contentType: 'application/jwk-set+json' };
        return { kind: 'raw', status: 200, text: JSON.stringify(openIDConfiguration(sa.issuer, this.o.serverAddress)), contentType: 'application/json' };
      }
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.document(path.slice('/openapi/v3/'.length));
      if (!doc) throw pathNotFound();
      return { kind: 'raw', status: 200, text: doc, contentType: 'application/json' };
    }
    const gv = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)$/.exec(path);
    if (gv && req.method === 'GET') {
      const aggregated = !gv[1] && !gv[3] ? this.o.aggregator?.groupDoc(gv[2]!) : undefined;
      const doc = gv[1]
        ? apiResourceList(reg, '', gv[1])
        : gv[3]
          ? apiResourceList(reg, gv[2], gv[3])
          : (apiGroup(reg, gv[2]) ?? (aggregated && { kind: 'APIGroup', apiVersion: 'v1', ...aggregated }));
      if (!doc) throw pathNotFound();
      return ok(doc);
    }
    const rr = parseResourcePath(req.method, path, req.query);
    if (!rr) throw pathNotFound();
    return this.resource(req, rr, attrs, view);
  }

  private metricsApi(rr: ResourceRequest, query: URLSearchParams): Promise<Obj> {
    const store = this.o.metrics;
    if (!store) throw new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    const list = async (plural: 'nodes' | 'pods', ns?: string) => (await this.storeFor(plural).list(ns)).items as Obj[];
    return serveMetrics(
      { store, list, nowMs: () => this.ctx.now().getTime() },
      { plural: rr.resource as 'nodes' | 'pods', verb: rr.verb, namespace: rr.namespace, name: rr.name, query },
    );
  }

  private async resource(req: ApiRequest, rr: ResourceRequest, attrs: Attributes, view: View | undefined): Promise<ApiResponse> {
    const res = this.o.registry.lookup(rr.group, rr.version, rr.resource);
    if (!res) throw pathNotFound();
    if ((rr.namespace && !res.namespaced) || (!rr.namespace && res.namespaced && rr.name)) throw pathNotFound();
    if (rr.subresource && !res.subresources.includes(rr.subresource)) throw pathNotFound();
    const rs = this.storeOf(res);
    const warning = res.custom?.deprecationWarning;
    const r = await this.resourceVerb(req, rr, attrs, view, res, rs);
    if (warning && r.kind === 'object') r.warnings = [warning, ...(r.warnings ?? [])];
    return r;
  }

  private async resourceVerb(
    req: ApiRequest,
    rr: ResourceRequest,
    attrs: Attributes,
    view: View | undefined,
    res: ResourceInfo,
    rs: ResourceStore,
  ): Promise<ApiResponse> {
    const accept = parseAccept(req.headers['accept']);
    if (!accept.acceptable) throw notAcceptable();
    const include = parseIncludeObject(req.query, accept.table);
    const out: OutputCtx = { res, strategy: rs.strategy, accept, include, now: this.ctx.now() };
    const ns = rr.namespace;
    const dryRun = this.dryRun(req.query);
    if (rr.subresource === 'proxy') return this.proxyFor(req, rr);
    if (rr.verb === '') throw methodNotSupported(rs.gr, req.method);
    if (rr.subresource === 'ephemeralcontainers' && !['get', 'update', 'patch'].includes(rr.verb))
      throw methodNotSupported({ group: '', plural: 'pods/ephemeralcontainers' }, rr.verb);
    if (rr.subresource && KUBELET_SUBRESOURCES.includes(rr.subresource)) {
      // plain GET of pods/log is proxied here; exec/attach/portforward need an upgraded connection
      if (rr.subresource !== 'log') throw badRequest('Upgrade request required');
      if (rr.verb !== 'get') throw methodNotSupported(rs.gr, rr.verb);
      return { kind: 'proxy', target: await this.kubeletTargetFor(ns!, rr.name!, rr.subresource, req.query) };
    }
    if (res.metrics) return ok(await this.metricsApi(rr, req.query));
    if (res.virtual) {
      if (rr.verb !== 'create' || rr.name) throw methodNotSupported(rs.gr, rr.verb);
      const body = requireObject(decodeBody(req.body, req.headers['content-type'], messageFor(res.group, res.kind, res.version)));
      typedDecode(body, res, 'Ignore');
      rs.normalize(ns, body as Obj);
      if (res.plural === 'tokenreviews') {
        if (!this.o.authn) throw pathNotFound();
        return ok(await this.o.authn.review(body), 201);
      }
      return ok(await review(this.o.authorizer ?? ALLOW_ALL, res.plural, body, req.user, ns), 201);
    }
    if (rr.subresource === 'token') {
      const issuer = this.o.authn?.serviceAccounts;
      if (!issuer) throw pathNotFound();
      if (rr.verb !== 'create') throw methodNotSupported({ group: '', plural: 'serviceaccounts/token' }, rr.verb);
      const body = requireObject(decodeBody(req.body, req.headers['content-type'], messageFor('authentication.k8s.io', 'TokenRequest')));
      typedDecode(body, res, 'Ignore', 'AuthenticationV1TokenRequest', 'TokenRequest');
      const get: Getter = (plural, gns, name) => this.storeFor(plural).get(gns, name);
      const answer = await createTokenRequest(issuer, get, attrs, ns!, rr.name!, body);
      return ok(answer.body, 201, answer.warnings);
    }
    if (rr.subresource === 'scale') return this.scale(req, rs, ns, rr, dryRun);
    if (rr.subresource === 'eviction') {
      if (rr.verb !== 'create') throw methodNotSupported(rs.gr, rr.verb);
      const answer = await evict(rs, this.storeFor('poddisruptionbudgets', 'policy'), ns!, rr.name!, req.body, req.headers['content-type'], dryRun);
      return ok(answer.body, answer.code);
    }
    const verbAllowed = res.verbs.includes(rr.verb === 'watch' ? 'watch' : rr.verb) || rr.subresource;
    if (!verbAllowed) throw methodNotSupported(rs.gr, rr.verb);
    return VERB_HANDLERS[rr.verb](this.verbEnv, { req, rr, attrs, view, res, rs, out, ns, dryRun });
  }

  /** The request's admission webhooks (their Warning headers go to `warnings`). */
  private webhooksFor(req: ApiRequest, rr: ResourceRequest, res: ResourceInfo, dryRun: boolean, warnings: string[]): WebhookAdmission | undefined {
    return this.webhooks?.forRequest({
      group: res.group,
      version: res.version,
      kind: res.kind,
      resource: res.plural,
      subresource: rr.subresource ?? '',
      name: rr.name ?? '',
      namespace: rr.namespace ?? '',
      user: req.user,
      dryRun,
      warnings,
      options: (op) => operationOptions(op, req, dryRun),
    });
  }

  /**
   * upstream's ConnectResource admission: before pods/attach, exec or portforward is upgraded, the
   * mutating then the validating webhooks see the CONNECT with the request's options object; a
   * denial is thrown as the webhook's Status. Returns the query the stream goes on with (the
   * options a mutating webhook changed, written back).
   */
  async admitConnect(user: UserInfo, sub: ConnectSubresource, namespace: string, name: string, query: URLSearchParams): Promise<URLSearchParams> {
    const admission = this.webhooks?.forRequest({
      group: '',
      version: 'v1',
      kind: CONNECT_KINDS[sub],
      resource: 'pods',
      subresource: sub,
      name,
      namespace,
      user,
      dryRun: false,
      warnings: [],
      options: () => undefined,
    });
    if (!admission) return query;
    const sent = connectOptions(sub, query);
    // the options object has no metadata, which the dispatcher reads as absent
    const opts = { ...sent } as unknown as Obj;
    const admitted = (await admission.mutate('CONNECT', opts, undefined)) ?? opts;
    await admission.validate('CONNECT', admitted, undefined);
    return admittedQuery(sub, query, sent, admitted);
  }

  /** The request's validating admission of what a write would store, as crud.ts calls it. */
  private writeAdmission(attrs: Attributes): WriteOptions['admit'] {
    const check = this.o.admitWrite;
    if (!check) return undefined;
    return (next, cur) => {
      const refused = check(attrs, next, cur);
      if (refused) throw refused;
    };
  }

  private async scale(req: ApiRequest, rs: ResourceStore, ns: string | undefined, rr: ResourceRequest, dryRun: boolean): Promise<ApiResponse> {
    const name = rr.name!;
    switch (rr.verb) {
      case 'get':
        return ok(scaleOf(await rs.get(ns, name), rs.res.scale));
      case 'update':
        return ok(await updateScale(rs, ns, name, req.body, req.headers['content-type'], dryRun, fieldManager(req)));
      case 'patch': {
        const type = getOwn(PATCH_CONTENT_TYPES, mediaType(req.headers['content-type']));
        if (!type || type === 'apply') throw unsupportedPatch();
        return ok(await patchScale(rs, ns, name, type, decodeBody(req.body, 'application/json'), dryRun, fieldManager(req)));
      }
      default:
        throw methodNotSupported({ group: rs.res.group, plural: `${rs.res.plural}/scale` }, rr.verb);
    }
  }

  /** pods/proxy, services/proxy, nodes/proxy: the backend the request goes to. */
  private proxyFor(req: ApiRequest, rr: ResourceRequest): Promise<ProxyResolution> {
    return resolveProxy(req.method, req.path, req.query, rr, {
      get: (plural, ns, name) => this.storeFor(plural).get(ns, name),
      slicesOf: async (ns, service) =>
        (await this.storeFor('endpointslices', 'discovery.k8s.io').list(ns, { labels: parseLabelSelector(`kubernetes.io/service-name=${service}`) })).items,
    });
  }

  /** The kubelet URL serving a pod's log, exec, attach or portforward subresource. */
  async kubeletTargetFor(ns: string, name: string, sub: string, query: URLSearchParams): Promise<KubeletTarget> {
    const pod = await this.storeFor('pods').get(ns, name);
    const nodeName = pod.spec?.nodeName;
    const node = nodeName
      ? await this.storeFor('nodes')
          .get(undefined, nodeName)
          .catch(() => undefined)
      : undefined;
    return kubeletTarget(pod, node, sub, query);
  }

  private dryRun(q: URLSearchParams): boolean {
    const v = q.getAll('dryRun');
    if (v.some((x) => x !== 'All')) throw badRequest(`Invalid dry run value: ${v.join(',')}`);
    return v.length > 0;
  }
}

/** The CreateOptions, UpdateOptions or DeleteOptions an AdmissionReview carries. */
function operationOptions(op: Operation, req: ApiRequest, dryRun: boolean): Record<string, unknown> {
  const kind = op === 'CREATE' ? 'CreateOptions' : op === 'UPDATE' ? 'UpdateOptions' : op === 'DELETE' ? 'DeleteOptions' : 'ConnectOptions';
  const fm = req.query.get('fieldManager');
  const gp = req.query.get('gracePeriodSeconds');
  const pp = req.query.get('propagationPolicy');
  return {
    kind,
    apiVersion: 'meta.k8s.io/v1',
    ...(dryRun ? { dryRun: ['All'] } : {}),
    ...(fm && op !== 'DELETE' ? { fieldManager: fm } : {}),
    ...(op === 'DELETE' && gp !== null ? { gracePeriodSeconds: Number(gp) } : {}),
    ...(op === 'DELETE' && pp ? { propagationPolicy: pp } : {}),
  };
}
