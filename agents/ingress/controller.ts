// The built-in ingress controller on one node (started by kube-proxy, with its own identity
// system:hawser-ingress): follows Ingresses, IngressClasses, Services, EndpointSlices, TLS Secrets
// and Nodes through informers, rebuilds the route table and certificates on every change and hands
// them to the proxy whole (no listener restarts), and keeps status.loadBalancer of each Ingress of
// ours at the Ready nodes' addresses (every node computes the same list, so they agree).
import tls from 'node:tls';
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import { ApiClient, isConflict, isNotFound } from '../api/client.ts';
import { Informer } from '../api/informer.ts';
import { loadKubeconfig } from '../api/kubeconfig.ts';
import { logger } from '../api/log.ts';
import { core, resourcePath } from '../api/paths.ts';
import { SyncRunner } from '../api/sync-runner.ts';
import { EventRecorder } from '../kubelet/pods/events.ts';
import { IngressProxy } from './proxy.ts';
import {
  buildRoutes,
  desiredStatus,
  endpointsFor,
  type EndpointSliceObj,
  type IngressClassObj,
  type IngressObj,
  isOurs,
  missingReferences,
  type ServiceObj,
  statusDiffers,
} from './routes.ts';

export interface IngressOptions {
  nodeName: string;
  kubeconfig: string;
  bindAddress: string;
  httpPort: number;
  httpsPort: number;
}

const networking = (plural: string, namespace?: string, name?: string, subresource?: string) =>
  resourcePath({ group: 'networking.k8s.io', version: 'v1', plural, namespace, name, subresource });

const readyIP = (n: V1Node): string | undefined =>
  (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') && !n.spec?.unschedulable
    ? n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address
    : undefined;

export async function startIngress(o: IngressOptions): Promise<{ ports: { http: number; https: number }; stop(): Promise<void> }> {
  const log = logger('ingress');
  const api = new ApiClient(loadKubeconfig(o.kubeconfig), `hawser-ingress/${o.nodeName}`);
  const ingresses = new Informer<IngressObj>(api, networking('ingresses'), {}, log);
  const classes = new Informer<IngressClassObj>(api, networking('ingressclasses'), {}, log);
  const services = new Informer<ServiceObj>(api, core('services'), {}, log);
  const slices = new Informer<EndpointSliceObj>(api, resourcePath({ group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' }), {}, log);
  const secrets = new Informer<V1Secret>(api, core('secrets'), { fieldSelector: 'type=kubernetes.io/tls' }, log);
  const nodes = new Informer<V1Node>(api, core('nodes'), {}, log);
  const informers = [ingresses, classes, services, slices, secrets, nodes];
  const proxy = new IngressProxy(log);
  const ports = await proxy.listen({ address: o.bindAddress, httpPort: o.httpPort, httpsPort: o.httpsPort });
  /** secure contexts by "<ns>/<name>@<resourceVersion>": a Secret is parsed once per version */
  let contextCache = new Map<string, tls.SecureContext>();
  let lastProblems = '';
  const events = new EventRecorder(api, o.nodeName, log, 'hawser-ingress');
  /** problems already reported, so that a sync repeats no event */
  let reported = new Set<string>();

  const runner = new SyncRunner(
    async () => {
      const ours = ingresses.list().filter((i) => isOurs(i, classes.list()));
      const routes = buildRoutes(ours);
      const problems = routes.problems.join('; ');
      if (problems && problems !== lastProblems) log.warn({ problems: routes.problems }, 'ingress rules refused');
      lastProblems = problems;
      const contexts = new Map<string, tls.SecureContext>();
      const nextCache = new Map<string, tls.SecureContext>();
      for (const ref of new Set(routes.tls.values())) {
        const [ns, name] = ref.split('/');
        const s = secrets.get(`${ns}/${name}`);
        if (!s?.data?.['tls.crt'] || !s.data['tls.key']) {
          log.warn({ secret: ref }, 'ingress TLS secret missing or without tls.crt/tls.key; its hosts get the default certificate');
          continue;
        }
        const ck = `${ref}@${s.metadata?.resourceVersion}`;
        try {
          const ctx =
            contextCache.get(ck) ?? tls.createSecureContext({ cert: Buffer.from(s.data['tls.crt'], 'base64'), key: Buffer.from(s.data['tls.key'], 'base64') });
          nextCache.set(ck, ctx);
          contexts.set(ref, ctx);
        } catch (err) {
          log.warn({ secret: ref, err: String(err) }, 'ingress TLS secret holds no usable certificate and key');
        }
      }
      contextCache = nextCache;
      const svcs = services.list();
      const sl = slices.list();
      proxy.setRoutes({ routes, contexts, endpoints: (b) => endpointsFor(b, svcs, sl) });
      // one node reports (the first Ready one by name), so N nodes do not send N copies of each event
      const ready = nodes
        .list()
        .filter((n) => readyIP(n))
        .map((n) => n.metadata?.name ?? '')
        .sort();
      const nowReported = new Set<string>();
      const keyOf = (m: { namespace?: string; name?: string }) => `${m.namespace}/${m.name}`;
      for (const p of missingReferences(ours, new Set(svcs.map((s) => keyOf(s.metadata))), new Set(secrets.list().map((s) => keyOf(s.metadata ?? {}))))) {
        const k = `${p.ingress.uid}|${p.message}`;
        nowReported.add(k);
        if (reported.has(k) || (ready.length && ready[0] !== o.nodeName)) continue;
        events.about(
          { kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', name: p.ingress.name ?? '', namespace: p.ingress.namespace, uid: p.ingress.uid },
          'Warning',
          p.reason,
          p.message,
        );
      }
      reported = nowReported;
      const want = desiredStatus(
        nodes
          .list()
          .map(readyIP)
          .filter((ip): ip is string => !!ip),
      );
      for (const ing of ours) {
        if (!statusDiffers(ing, want)) continue;
        const { namespace, name } = ing.metadata;
        try {
          await api.patch(networking('ingresses', namespace, name, 'status'), { status: { loadBalancer: want } });
        } catch (err) {
          // another node wrote the same, or the Ingress is gone: the next event brings the truth
          if (!isConflict(err) && !isNotFound(err)) log.warn({ ingress: `${namespace}/${name}`, err: String(err) }, 'ingress status update failed');
        }
      }
    },
    0,
    30_000,
  );

  // no sync before every informer has listed: a half-read cluster would report Services missing
  let synced = false;
  const changed = () => {
    if (synced) setImmediate(() => runner.run());
  };
  for (const inf of informers) inf.on({ add: changed, update: changed, delete: changed }).start();
  let stopped = false;
  void Promise.all(informers.map((i) => i.waitForSync())).then(() => {
    if (stopped) return;
    synced = true;
    runner.start();
    runner.run();
    log.info({ node: o.nodeName, ...ports }, 'ingress controller started');
  });
  return {
    ports,
    async stop() {
      stopped = true;
      runner.stop();
      for (const i of informers) i.stop();
      await proxy.close();
    },
  };
}
