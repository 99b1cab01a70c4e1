// Serving custom resources: follows the CRDs through an informer and keeps the registry's entries
// for each Established CRD (one per served version) in step, as the apiextensions server's CRD
// handler does. A terminating CRD stays served (its cleanup deletes through the API) but refuses
// creates; a deleted one is no longer served.
import type { Logger } from '../../../api/log.ts';
import { Informer } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { Registry, ResourceInfo, Verb } from '../registry.ts';
import type { Obj } from '../strategies/types.ts';
import { customStrategy } from '../strategies/custom.ts';
import type { ServiceLookups } from '../admission/target.ts';
import { webhookConverter } from './conversion.ts';
import { type CRD, isTrue } from './types.ts';

export const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The registry entries of an Established CRD's served versions (none otherwise; pure). */
/** Services for a server that knows none (a conversion webhook can then only be called by URL). */
const NO_SERVICES: ServiceLookups = { service: async () => undefined, slices: async () => [] };

export function customResourceInfos(crd: CRD, lookups: ServiceLookups = NO_SERVICES): ResourceInfo[] {
  if (!isTrue(crd, 'Established')) return [];
  const convert = crd.spec.conversion?.strategy === 'Webhook' ? webhookConverter(crd, lookups) : undefined;
  const names = { ...crd.spec.names, ...(crd.status?.acceptedNames ?? {}) };
  return crd.spec.versions
    .filter((v) => v.served)
    .map(
      (v): ResourceInfo => ({
        group: crd.spec.group,
        version: v.name,
        kind: names.kind ?? crd.spec.names.kind,
        plural: names.plural ?? crd.spec.names.plural,
        singular: names.singular ?? crd.spec.names.singular ?? '',
        namespaced: crd.spec.scope === 'Namespaced',
        ...(names.shortNames?.length ? { shortNames: names.shortNames } : {}),
        ...(names.categories?.length ? { categories: names.categories } : {}),
        verbs: VERBS,
        subresources: [...(v.subresources?.status ? ['status'] : []), ...(v.subresources?.scale ? ['scale'] : [])],
        model: `${crd.spec.group}/${v.name}/${names.kind}`,
        nameRule: 'subdomain',
        generation: true,
        strategy: customStrategy(crd, v, convert),
        ...(v.subresources?.scale ? { scale: v.subresources.scale } : {}),
        custom: {
          crd: crd.metadata.name!,
          ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
          ...(v.deprecated ? { deprecationWarning: v.deprecationWarning ?? `${crd.spec.group}/${v.name} ${names.kind} is deprecated` } : {}),
          ...(crd.metadata.deletionTimestamp ? { terminating: true } : {}),
        },
      }),
    );
}

export class CustomResourceServing {
  private readonly informer: Informer;

  /** `lookups`: the Services and EndpointSlices a conversion webhook's Service resolves through */
  constructor(registry: Registry, client: LoopbackClient, log: Logger, lookups?: ServiceLookups) {
    const serve = (o: Obj) => {
      const crd = o as unknown as CRD;
      registry.setCustom(crd.metadata.name!, customResourceInfos(crd, lookups));
    };
    this.informer = new Informer(
      client,
      CRD_PATH,
      {
        add: serve,
        update: serve,
        delete: (o) => registry.setCustom(o.metadata.name!, []),
      },
      log,
    );
  }

  start(): Promise<void> {
    this.informer.start();
    return this.informer.synced;
  }

  stop(): void {
    this.informer.stop();
  }
}
