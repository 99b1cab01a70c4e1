// API aggregation (upstream's kube-aggregator in front of the API server): follows the APIServices
// through an informer; a request under /apis/<group>/<version> of one with a Service goes to that
// Service (proxy.ts) after hawser authenticated and authorized it, or is a plain-text 503 "service
// unavailable" while the APIService is not Available; the group/versions of Available ones join
// /apis, /apis/<group>, aggregated discovery and the OpenAPI v3 index, from the discovery the
// availability controller (availability.ts) last fetched. The backend is one ready EndpointSlice
// address of the Service (as the webhooks': this API server need not reach ClusterIPs, and an
// in-process test can point a slice at loopback).
import type { Logger } from '../../../api/log.ts';
import { Informer } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import { roots } from '../admission/client.ts';
import { serviceEndpoint } from '../proxy-target.ts';
import { type APIService, availableCondition } from '../strategies/apiregistration.ts';
import type { Obj } from '../strategies/types.ts';
import type { AggregatedTarget } from './proxy.ts';
import type { FrontProxyCredentials } from './request-header.ts';

export interface ServiceLookups {
  service(namespace: string, name: string): Promise<Obj | undefined>;
  slices(namespace: string, service: string): Promise<Obj[]>;
}

/** An APIResourceList a backend answered on /apis/<group>/<version>. */
export interface ResourceList {
  groupVersion?: string;
  resources?: { name: string; singularName?: string; namespaced?: boolean; kind: string; verbs?: string[]; shortNames?: string[]; categories?: string[] }[];
}

export type Route = { kind: 'proxy'; target: AggregatedTarget } | { kind: 'unavailable' };

const gvKey = (group: string, version: string) => `${group}/${version}`;

/** versionPriority high first, then the name (upstream sorts kube-like versions; ties are rare) */
const byVersionPriority = (a: APIService, b: APIService) =>
  (b.spec.versionPriority ?? 0) - (a.spec.versionPriority ?? 0) || String(a.spec.version).localeCompare(String(b.spec.version));

export class Aggregator {
  private informer: Informer | undefined;
  private readonly discovered = new Map<string, ResourceList>();
  private readonly changed: (() => void)[] = [];
  /** group/version -> the APIService with a Service, rebuilt after a change (route() runs on every request) */
  private remotes: Map<string, APIService> | undefined;

  private look: ServiceLookups | undefined;

  constructor(readonly creds: FrontProxyCredentials) {}

  /** The Services' store (the API handler hands it over when it is made). */
  setLookups(look: ServiceLookups): void {
    this.look = look;
  }

  async start(client: LoopbackClient, log: Logger): Promise<void> {
    const fire = () => {
      this.remotes = undefined;
      this.changed.forEach((fn) => fn());
    };
    this.informer = new Informer(client, '/apis/apiregistration.k8s.io/v1/apiservices', { add: fire, update: fire, delete: fire }, log);
    this.informer.start();
    await this.informer.synced;
  }

  stop(): void {
    this.informer?.stop();
  }

  onChange(fn: () => void): void {
    this.changed.push(fn);
  }

  apiServices(): APIService[] {
    return [...(this.informer?.cache.values() ?? [])] as APIService[];
  }

  /** The APIService with a Service for group/version, if any. */
  private remote(group: string, version: string): APIService | undefined {
    this.remotes ??= new Map(
      this.apiServices()
        .filter((s) => s.spec.service)
        .map((s) => [gvKey(s.spec.group ?? '', s.spec.version ?? ''), s]),
    );
    return this.remotes.get(gvKey(group, version));
  }

  /** The last discovery of an Available remote APIService (availability.ts keeps it). */
  setDiscovery(group: string, version: string, list: ResourceList | undefined): void {
    if (list) this.discovered.set(gvKey(group, version), list);
    else this.discovered.delete(gvKey(group, version));
  }

  /** Available remote APIServices with their discovery, by group, versions in priority order. */
  private served(): Map<string, { svc: APIService; list: ResourceList }[]> {
    const out = new Map<string, { svc: APIService; list: ResourceList }[]>();
    const svcs = this.apiServices()
      .filter((s) => s.spec.service && availableCondition(s)?.status === 'True')
      .sort(byVersionPriority);
    for (const svc of svcs) {
      const list = this.discovered.get(gvKey(svc.spec.group ?? '', svc.spec.version ?? ''));
      if (!list) continue;
      const g = svc.spec.group ?? '';
      out.set(g, [...(out.get(g) ?? []), { svc, list }]);
    }
    return out;
  }

  /** Where a request on `path` goes, when an APIService with a Service owns it. */
  async route(path: string, search: string, user: UserInfo): Promise<Route | undefined> {
    const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/.*)?$/.exec(path) ?? /^\/openapi\/v3\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m) return undefined;
    const svc = this.remote(m[1]!, m[2]!);
    if (!svc) return undefined;
    if (availableCondition(svc)?.status !== 'True') return { kind: 'unavailable' };
    try {
      return { kind: 'proxy', target: { ...(await this.resolve(svc)), path: `${path}${search}`, user, creds: this.creds } };
    } catch {
      return { kind: 'unavailable' };
    }
  }

  /** The endpoint, TLS name and roots of an APIService's Service; throws when it has none. */
  async resolve(svc: APIService): Promise<Omit<AggregatedTarget, 'path' | 'user' | 'creds'>> {
    const ref = svc.spec.service!;
    if (!this.look) throw new Error('no Service lookups');
    const s = await this.look.service(ref.namespace!, ref.name!);
    if (!s) throw new Error(`service/${ref.name} in ${JSON.stringify(ref.namespace)} is not present`);
    const ep = serviceEndpoint(s, await this.look.slices(ref.namespace!, ref.name!), String(ref.port ?? 443), ref.name!);
    return {
      host: ep.ip,
      port: ep.port,
      servername: `${ref.name}.${ref.namespace}.svc`,
      ca: roots(svc.spec.caBundle),
      insecure: !!svc.spec.insecureSkipTLSVerify,
    };
  }

  /** Adds the aggregated groups to an APIGroupList. */
  groupList<T extends { groups: unknown[] }>(doc: T): T {
    for (const [group] of this.served()) {
      const g = this.groupDoc(group);
      if (g) doc.groups.push(g);
    }
    return doc;
  }

  /** The APIGroup of an aggregated group (undefined for a group served here). */
  groupDoc(
    group: string,
  ): { name: string; versions: { groupVersion: string; version: string }[]; preferredVersion: { groupVersion: string; version: string } } | undefined {
    const entries = this.served().get(group);
    if (!entries) return undefined;
    const versions = entries.map(({ svc }) => ({ groupVersion: `${group}/${svc.spec.version}`, version: svc.spec.version! }));
    return { name: group, versions, preferredVersion: versions[0]! };
  }

  /** Adds the aggregated groups to an APIGroupDiscoveryList (apidiscovery.k8s.io). */
  aggregatedDiscovery<T extends { items: unknown[] }>(doc: T): T {
    for (const [group, entries] of this.served()) {
      doc.items.push({
        metadata: { name: group, creationTimestamp: null },
        versions: entries.map(({ svc, list }) => ({
          version: svc.spec.version,
          resources: discoveryResources(group, svc.spec.version!, list),
          freshness: 'Current',
        })),
      });
    }
    return doc;
  }

  /** Adds the aggregated group/versions to the OpenAPI v3 index (their documents are proxied). */
  openAPIIndex(text: string): string {
    const doc = JSON.parse(text) as { paths: Record<string, { serverRelativeURL: string }> };
    for (const [group, entries] of this.served()) {
      for (const { svc } of entries) doc.paths[`apis/${group}/${svc.spec.version}`] = { serverRelativeURL: `/openapi/v3/apis/${group}/${svc.spec.version}` };
    }
    return JSON.stringify(doc);
  }
}

/** An APIResourceList as apidiscovery.k8s.io resources: "x/y" entries become x's subresources (pure). */
export function discoveryResources(group: string, version: string, list: ResourceList) {
  const all = list.resources ?? [];
  return all
    .filter((r) => !r.name.includes('/'))
    .map((r) => {
      const subs = all.filter((s) => s.name.startsWith(`${r.name}/`));
      return {
        resource: r.name,
        responseKind: { group, version, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.singularName ?? '',
        verbs: r.verbs ?? [],
        ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories?.length ? { categories: r.categories } : {}),
        ...(subs.length
          ? {
              subresources: subs.map((s) => ({
                subresource: s.name.slice(r.name.length + 1),
                responseKind: { group, version, kind: s.kind },
                verbs: s.verbs ?? [],
              })),
            }
          : {}),
      };
    });
}
