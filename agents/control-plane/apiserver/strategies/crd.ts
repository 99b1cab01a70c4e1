// CustomResourceDefinition (apiextensions.k8s.io/v1): upstream's defaults, a fresh status on create
// (storedVersions records the storage version), static validation, and deletion that always
// waits for the customresourcecleanup finalizer until the CRD controller removed every object.
import { CLEANUP_FINALIZER, type CRD } from '../crd/types.ts';
import { validateCRD, validateCRDUpdate } from '../crd/validate-crd.ts';
import { isoNow, type Obj, type Strategy } from './types.ts';

const asCRD = (o: Obj): CRD => o as unknown as CRD;

function withStoredVersion(crd: CRD): void {
  const storage = crd.spec?.versions?.find((v) => v.storage)?.name;
  const status = (crd.status ??= {});
  const stored = (status.storedVersions ??= []);
  if (storage && !stored.includes(storage)) stored.push(storage);
}

export const crdStrategy: Strategy = {
  defaults(o) {
    const spec = asCRD(o).spec;
    if (!spec || typeof spec !== 'object') return;
    spec.conversion ??= { strategy: 'None' };
    const svc = spec.conversion.webhook?.clientConfig?.service;
    if (svc) svc.port ??= 443;
    const n = spec.names;
    if (n?.kind) {
      n.listKind ||= `${n.kind}List`;
      n.singular ||= n.kind.toLowerCase();
    }
  },
  prepareForCreate(o) {
    const crd = asCRD(o);
    crd.status = { conditions: [], acceptedNames: { plural: '', kind: '' }, storedVersions: [] };
    withStoredVersion(crd);
  },
  // the main resource's status is carried over by the store (status subresource); a new storage
  // version joins storedVersions on any write
  prepareForUpdate(next) {
    withStoredVersion(asCRD(next));
  },
  validate: (o) => validateCRD(asCRD(o)),
  validateUpdate: (next, old) => validateCRDUpdate(asCRD(next), asCRD(old)),
  // a live CRD always waits for the cleanup: the first delete adds the finalizer (prepareForDelete)
  extraFinalizers: (o) => (o.metadata.deletionTimestamp ? [] : [CLEANUP_FINALIZER]),
  prepareForDelete(o) {
    const m = o.metadata;
    if (!(m.finalizers ?? []).includes(CLEANUP_FINALIZER)) m.finalizers = [...(m.finalizers ?? []), CLEANUP_FINALIZER];
    const crd = asCRD(o);
    const conds = (crd.status?.conditions ?? []).filter((c) => c.type !== 'Terminating');
    conds.push({
      type: 'Terminating',
      status: 'True',
      lastTransitionTime: isoNow(new Date()),
      reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    });
    crd.status = { ...(crd.status ?? {}), conditions: conds };
  },
};
