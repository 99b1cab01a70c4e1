// The control plane in one process (k3s-style): certificates, SQLite store with compaction, the
// HTTPS API server, and the in-process controllers (scheduler, node IPAM, namespaces), each an API
// client of the server.
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { runControllerManager } from './controllers/leader/controller-set.ts';
import { runWhenLeader } from './controllers/leader/leader.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { joinHandler } from './join/index.ts';
import { startClusterDNS, ensureKubeDnsService } from './dns/index.ts';
import { ApiClient } from '../api/client.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../api/log.ts';
import { ApiHandler } from './apiserver/handler.ts';
import { startAuthorization, storedObjects, TokenAuthenticator } from './auth/index.ts';
import { BearerAuthenticator } from './auth/authn.ts';
import { loadOrCreateSigningKey } from './auth/sa-key.ts';
import { DEFAULT_ISSUER, ServiceAccountTokens } from './auth/sa-tokens.ts';
import { reconcileBootstrapPolicy } from './auth/reconcile-policy.ts';
import { MetricsScraper } from './metrics/scraper.ts';
import { MetricsStore } from './metrics/store.ts';
import { ClusterRoleAggregationController } from './controllers/rbac-aggregation.ts';
import { CRDController } from './controllers/crd.ts';
import { CustomResourceServing } from './apiserver/crd/serving.ts';
import { WebhookSource } from './apiserver/admission/source.ts';
import { Aggregator } from './apiserver/aggregator/aggregator.ts';
import { AvailabilityController } from './apiserver/aggregator/availability.ts';
import { ensureLocalAPIServices } from './apiserver/aggregator/local-apiservices.ts';
import { ensureFrontProxy, publishAuthenticationConfig } from './front-proxy.ts';
import { Registry } from './apiserver/registry.ts';
import { serve } from './apiserver/server.ts';
import type { ServerTimeouts } from './apiserver/timeouts.ts';
import { bootstrap, firstServiceIP } from './bootstrap.ts';
import { LoopbackClient } from './client/loopback.ts';
import { parseCIDR, prefixBits } from '../api/ip.ts';
import { startEventTTL } from './controllers/eventttl.ts';
import { AdmissionPolicyStatusController } from './controllers/admission-policy-status.ts';
import { NamespaceController } from './controllers/namespace.ts';
import { RootCAPublisher } from './controllers/serviceaccount/root-ca.ts';
import { NodeIpamController } from './controllers/nodeipam.ts';
import { NodeLifecycleController } from './controllers/nodelifecycle.ts';
import { PodGC } from './controllers/podgc.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { DNS_USER } from './auth/agent-identities.ts';
import { ensureClientCert, ensureServingCert, issueCert, loadOrCreateCA } from './pki.ts';
import { Scheduler } from './scheduler/scheduler.ts';
import { startCompactor } from './storage/compactor.ts';
import { SqliteStore } from './storage/sqlite.ts';
import { startSecretsEncryption } from './storage/secrets-encryption.ts';
import type { Store } from './storage/types.ts';
import { hardenPrototypes } from './harden.ts';

export interface ControlPlaneOptions {
  dataDir: string;
  bindAddress: string;
  port: number;
  advertiseAddress: string;
  extraSANs?: string[];
  clusterCIDR: string;
  nodeCIDRMaskSize: number;
  serviceCIDR: string;
  /** seconds without a Lease renewal or status post before a node turns Ready=Unknown (default 50) */
  nodeMonitorGracePeriodSeconds?: number;
  /** the garbage collector's discovery period in ms (upstream 30 s); not a flag, tests shorten it */
  gcRediscoverMs?: number;
  /** etcd client URLs (comma separated); absent = the embedded SQLite store in dataDir */
  datastoreEndpoint?: string;
  /** Secrets encrypted at rest with the keys of <dataDir>/cred/encryption-config.json (written on first start) */
  secretsEncryption?: boolean;
  /** static bearer tokens, upstream's CSV format: token,user,uid,"group1,group2" */
  tokenAuthFile?: string;
  /** the iss of service-account tokens and the API server's audience (upstream --service-account-issuer) */
  serviceAccountIssuer?: string;
  /** upstream --service-account-max-token-expiration in seconds (0/absent: no cap) */
  serviceAccountMaxTokenExpirationSeconds?: number;
  /** upstream --service-account-extend-token-expiration (default true) */
  serviceAccountExtendTokenExpiration?: boolean;
  /** cluster DNS on advertiseAddress:<port> behind Service kube-system/kube-dns; absent = no DNS */
  clusterDNS?: { port: number; serviceIP: string; clusterDomain: string; resolvConf: string };
  /** the API server's header, body and idle timeouts (apiserver/timeouts.ts); upstream's by default, tests shorten them */
  httpTimeouts?: Partial<ServerTimeouts>;
  /** how often the built-in metrics API scrapes the kubelets (metrics-server's --metric-resolution; the CLI's
   * default is 15 s); unset or 0: no metrics API (503, as without metrics-server), so in-process test
   * clusters never dial the made-up addresses of their fake nodes */
  metricResolutionMs?: number;
  /** the HPA controller's sync period in ms (upstream 15 s); not a flag, tests shorten it */
  hpaSyncPeriodMs?: number;
  /** a metrics store the caller fills instead of the kubelet scraper (in-process tests' fake metrics source) */
  metricsSource?: MetricsStore;
  /** do not create the built-in IngressClass `hawser` (the nodes' ingress controllers then serve nothing) */
  disableIngress?: boolean;
  /** run no built-in service load balancer: LoadBalancer Services stay pending for another one (k3s: --disable servicelb) */
  disableServiceLB?: boolean;
}

const tlsDir = (dataDir: string) => join(dataDir, 'tls');

function hostForUrl(addr: string): string {
  return addr.includes(':') ? `[${addr}]` : addr;
}

function checkCIDRs(o: ControlPlaneOptions): void {
  for (const [flag, v] of [
    ['cluster CIDR', o.clusterCIDR],
    ['service CIDR', o.serviceCIDR],
  ] as const) {
    if (!parseCIDR(v)) throw new Error(`invalid ${flag}: ${v}`);
  }
  const c = parseCIDR(o.clusterCIDR)!;
  if (o.nodeCIDRMaskSize < c.prefix || o.nodeCIDRMaskSize > prefixBits(c.ip.v))
    throw new Error(`node CIDR mask size /${o.nodeCIDRMaskSize} does not fit in cluster CIDR ${o.clusterCIDR}`);
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<{ url: string; close(): Promise<void> }> {
  hardenPrototypes();
  const log = logger('control-plane');
  checkCIDRs(o);
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const ca = await loadOrCreateCA(tlsDir(o.dataDir));
  const wildcard = o.bindAddress === '0.0.0.0' || o.bindAddress === '::' || !o.bindAddress;
  const sans = [
    ...new Set([
      o.advertiseAddress,
      ...(wildcard ? [] : [o.bindAddress]),
      '127.0.0.1',
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      firstServiceIP(o.serviceCIDR),
      ...(o.extraSANs ?? []),
    ]),
  ].filter(Boolean);
  const serving = await ensureServingCert(ca, tlsDir(o.dataDir), 'apiserver', sans);
  // the identity kubelets accept for logs/exec/port-forward: upstream's kube-apiserver-kubelet-client,
  // in no group, so that the key grants the kubelet API (system:kubelet-api-admin) and nothing more;
  // a certificate an older version issued with system:masters is replaced
  const kubeletClient = await ensureClientCert(ca, tlsDir(o.dataDir), 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', []);
  const frontProxy = await ensureFrontProxy(tlsDir(o.dataDir));

  // etcd3 (and its gRPC stack) loads only for an etcd datastore: an installed server on SQLite
  // does not carry it, and a static import made every start fail with "Cannot find module 'etcd3'"
  const backend: Store = o.datastoreEndpoint
    ? new (await import('./storage/etcd.ts')).EtcdStore({ endpoints: o.datastoreEndpoint })
    : new SqliteStore(join(o.dataDir, 'state.db'));
  const encryption = startSecretsEncryption(backend, { dataDir: o.dataDir, enabled: !!o.secretsEncryption, log });
  const store: Store = encryption.store;
  const compactor = startCompactor(store, { onError: (e) => log.warn({ err: e }, 'compaction failed') });
  const authz = await startAuthorization(store);
  // service-account tokens: signed by a key made on first start; the issuer is also the API's audience
  const issuer = o.serviceAccountIssuer || DEFAULT_ISSUER;
  const saTokens = new ServiceAccountTokens(loadOrCreateSigningKey(tlsDir(o.dataDir)), issuer, [issuer], storedObjects(store));
  saTokens.expiration = { maxSeconds: o.serviceAccountMaxTokenExpirationSeconds ?? 0, extend: o.serviceAccountExtendTokenExpiration ?? true };
  const authn = new BearerAuthenticator(o.tokenAuthFile ? TokenAuthenticator.fromFile(o.tokenAuthFile) : undefined, saTokens);
  const metrics = o.metricsSource ?? (o.metricResolutionMs ? new MetricsStore() : undefined);
  const webhooks = new WebhookSource();
  const aggregator = new Aggregator(frontProxy);
  const handler = new ApiHandler({
    metrics,
    store,
    authorizer: authz.authorizer,
    admit: authz.admit,
    admitWrite: authz.admitWrite,
    authn,
    webhooks,
    aggregator,
    registry: new Registry(),
    serverAddress: `${hostForUrl(o.advertiseAddress)}:${o.port}`,
    serviceCIDR: o.serviceCIDR,
  });
  // join endpoints (/cacerts, /v1-hawser/join) answer before client-cert login: a joining node
  // has only its token; the handler needs the final URL, known once the port is bound
  let joinRoutes: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  const http = await serve({
    handler,
    preAuth: (req, res) => joinRoutes?.(req, res) ?? false,
    tokens: authn,
    host: wildcard ? o.bindAddress || '0.0.0.0' : o.bindAddress,
    port: o.port,
    key: serving.keyPem,
    cert: serving.certPem,
    ca: ca.certPem,
    log,
    kubeletClient: { cert: kubeletClient.certPem, key: kubeletClient.keyPem, ca: ca.certPem },
    timeouts: o.httpTimeouts,
  });
  // readyz fails until these start-up steps are done (the server already answers meanwhile)
  const crdInformer = handler.health.informer('customresourcedefinitions');
  const crdHook = handler.health.postStartHook('crd-informer-synced');
  const bootstrapHook = handler.health.postStartHook('bootstrap-controller');
  const rbacHook = handler.health.postStartHook('rbac/bootstrap-roles');
  const url = `https://${hostForUrl(o.advertiseAddress)}:${http.port}`;
  handler.setServerAddress(`${hostForUrl(o.advertiseAddress)}:${http.port}`);
  const system = new LoopbackClient(handler, { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] });
  joinRoutes = joinHandler({
    dataDir: o.dataDir,
    serverURL: url,
    nodeExists: (name) =>
      system.request('GET', `/api/v1/nodes/${name}`).then(
        () => true,
        (e: unknown) => {
          if ((e as { code?: number }).code === 404) return false;
          throw e;
        },
      ),
  });
  const admin = await ensureClientCert(ca, tlsDir(o.dataDir), 'admin', 'admin', ['system:masters'], 3650);
  writeKubeconfig(join(o.dataDir, 'admin.kubeconfig'), { server: url, caPem: ca.certPem, user: 'admin', certPem: admin.certPem, keyPem: admin.keyPem });

  // custom resources are served by every control plane, as the apiextensions server in every API server
  const customResources = new CustomResourceServing(handler.registry, system, logger('custom-resources'), handler.serviceLookups);
  await customResources.start();
  crdInformer.synced();
  const crdController = new CRDController(system, logger('crd-controller'));
  await crdController.start();
  crdHook.done();
  // every API server calls the admission webhooks, from its own informer-fed copy of their configurations
  await webhooks.start(system, logger('admission-webhooks'));

  await bootstrap(system, { serviceCIDR: o.serviceCIDR, advertiseAddress: o.advertiseAddress, port: http.port, ingressClass: !o.disableIngress });
  bootstrapHook.done();
  await reconcileBootstrapPolicy(system);
  rbacHook.done();
  // API aggregation in every API server, as kube-aggregator fronts each kube-apiserver
  await aggregator.start(system, logger('aggregator'));
  await ensureLocalAPIServices(system, handler.registry);
  await publishAuthenticationConfig(system, ca.certPem, frontProxy.ca);
  const availability = new AvailabilityController(aggregator, system, logger('apiservice-availability'));
  availability.start();

  // the built-in metrics-server behind metrics.k8s.io, in every control plane (each serves the API)
  const scraper =
    metrics && !o.metricsSource
      ? new MetricsScraper({
          store: metrics,
          creds: { cert: kubeletClient.certPem, key: kubeletClient.keyPem, ca: ca.certPem },
          nodes: async () => (await system.list('/api/v1/nodes')).items,
          log: logger('metrics-scraper'),
          resolutionMs: o.metricResolutionMs,
        })
      : undefined;
  scraper?.start();

  const controllerUser = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
  const schedulerUser = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
  // the scheduler and the controllers run under Lease-based leader election, so that two control
  // planes on one etcd run one active set; the identity is stable per host and data dir so that a
  // restarted process takes its own lease back at once
  const identity = `${hostname()}_${createHash('sha256').update(o.dataDir).digest('hex').slice(0, 8)}`;
  let scheduler: Scheduler | undefined;
  const schedulerElection = runWhenLeader(
    new LoopbackClient(handler, schedulerUser),
    { name: 'hawser-scheduler', identity, log: logger('scheduler') },
    async () => {
      scheduler = new Scheduler(new LoopbackClient(handler, schedulerUser), logger('scheduler'));
      await scheduler.start();
    },
    () => {
      scheduler?.stop();
      scheduler = undefined;
    },
  );
  const manager = runControllerManager(new LoopbackClient(handler, controllerUser), logger('controller-manager'), {
    identity,
    gcRediscoverMs: o.gcRediscoverMs,
    hpaSyncPeriodMs: o.hpaSyncPeriodMs,
    disable: o.disableServiceLB ? ['servicelb'] : undefined,
    extra: [
      () => new NodeIpamController(new LoopbackClient(handler, controllerUser), logger('node-ipam'), o),
      () => new NamespaceController(new LoopbackClient(handler, controllerUser), logger('namespace-controller'), handler, ca.certPem),
      (informers) => new RootCAPublisher(new LoopbackClient(handler, controllerUser), logger('root-ca-publisher'), ca.certPem, { informers }),
      (informers) => new ClusterRoleAggregationController(new LoopbackClient(handler, controllerUser), logger('clusterrole-aggregation'), informers),
      (informers) => new PodGC(new LoopbackClient(handler, controllerUser), logger('pod-gc'), undefined, informers),
      (informers) => new AdmissionPolicyStatusController(new LoopbackClient(handler, controllerUser), logger('validatingadmissionpolicy-status'), informers),
      (informers) =>
        new NodeLifecycleController(new LoopbackClient(handler, controllerUser), logger('node-lifecycle'), {
          gracePeriodMs: (o.nodeMonitorGracePeriodSeconds ?? 50) * 1000,
          informers,
        }),
    ],
  });
  const eventTTL = startEventTTL(new LoopbackClient(handler, controllerUser), logger('event-ttl'));
  // DNS binds the advertise address, not a wildcard: :53 on 127.0.0.53 belongs to systemd-resolved
  let dns: { close(): Promise<void> } | undefined;
  if (o.clusterDNS) {
    // the server reads as system:hawser-dns (system:coredns's rights); its Service is set up as admin
    const dnsCert = await ensureClientCert(ca, tlsDir(o.dataDir), 'hawser-dns', DNS_USER, [], 3650);
    writeKubeconfig(join(o.dataDir, 'dns.kubeconfig'), { server: url, caPem: ca.certPem, user: DNS_USER, certPem: dnsCert.certPem, keyPem: dnsCert.keyPem });
    const dnsApi = new ApiClient(loadKubeconfig(join(o.dataDir, 'dns.kubeconfig')), 'hawser-cluster-dns');
    const d = await startClusterDNS({
      api: dnsApi,
      bindAddress: o.advertiseAddress,
      port: o.clusterDNS.port,
      clusterDomain: o.clusterDNS.clusterDomain,
      resolvConf: o.clusterDNS.resolvConf,
    });
    await ensureKubeDnsService(new ApiClient(loadKubeconfig(join(o.dataDir, 'admin.kubeconfig')), 'hawser-cluster-dns'), {
      clusterIP: o.clusterDNS.serviceIP,
      endpointIPs: [o.advertiseAddress],
      port: d.port,
    });
    dns = d;
  }
  log.info({ url, dataDir: o.dataDir }, 'control plane ready');

  return {
    url,
    async close() {
      handler.health.shutdown();
      scraper?.stop();
      await dns?.close();
      await manager.stop();
      await schedulerElection.stop();
      eventTTL.stop();
      crdController.stop();
      webhooks.stop();
      availability.stop();
      aggregator.stop();
      customResources.stop();
      compactor.stop();
      await http.close();
      authz.stop();
      await encryption.stop();
      await store.close();
    },
  };
}

/** A kubeconfig with a client certificate (CN = user, O = groups) signed by the cluster CA. */
export async function issueKubeconfig(o: { dataDir: string; server: string; user: string; groups: string[]; outFile: string }): Promise<void> {
  const dir = tlsDir(o.dataDir);
  if (!existsSync(join(dir, 'ca.crt'))) throw new Error(`no cluster CA in ${dir}: start the control plane once first`);
  const ca = await loadOrCreateCA(dir);
  const pair = await issueCert(ca, { cn: o.user, orgs: o.groups, usage: 'client' });
  writeKubeconfig(o.outFile, { server: o.server, caPem: ca.certPem, user: o.user, certPem: pair.certPem, keyPem: pair.keyPem });
}
