// storage.k8s.io/v1: StorageClasses (what a claim asks a provisioner for), the CSI facts
// (CSIDriver, CSINode, CSIStorageCapacity), VolumeAttachments and VolumeAttributesClasses, served
// as plain types with upstream's defaulting, the validation users hit and kubectl get's columns.
import { canonicalQuantity } from '../quota.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from '../validation/field.ts';
import { qualifiedName } from '../validation/names.ts';
import { isDefaultClass } from './volumes.ts';
import type { Obj, Strategy } from './types.ts';

const SC_RECLAIM = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const immutable = (path: string, next: unknown, old: unknown): FieldError[] => (same(next, old) ? [] : [invalid(path, next, 'field is immutable')]);

function validateProvisioner(p: string | undefined, path: string): FieldError[] {
  if (!p) return [required(path, p ?? '')];
  return qualifiedName(p.toLowerCase()).map((m) => invalid(path, p, m));
}

function validateStorageClass(o: Obj): FieldError[] {
  const errs = validateProvisioner(o.provisioner, 'provisioner');
  for (const k of Object.keys(o.parameters ?? {})) if (!k) errs.push(invalid('parameters', k, 'field can not be empty.'));
  if (o.reclaimPolicy !== undefined && !SC_RECLAIM.includes(o.reclaimPolicy)) errs.push(notSupported('reclaimPolicy', o.reclaimPolicy, SC_RECLAIM));
  if (o.volumeBindingMode !== undefined && !BINDING_MODES.includes(o.volumeBindingMode))
    errs.push(notSupported('volumeBindingMode', o.volumeBindingMode, BINDING_MODES));
  return errs;
}

function validateStorageClassUpdate(next: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parameters', 'provisioner', 'reclaimPolicy'] as const)
    if (!same(next[f], old[f])) errs.push(forbidden(f, `updates to ${f} are forbidden.`));
  errs.push(...immutable('volumeBindingMode', next.volumeBindingMode, old.volumeBindingMode));
  return errs;
}

const yesNo = (b: unknown) => (b ? 'true' : 'false');

export const storageClassStrategy: Strategy = {
  defaults(o) {
    o.reclaimPolicy ??= 'Delete';
    o.volumeBindingMode ??= 'Immediate';
  },
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
  table: {
    columns: [
      NAME_COLUMN,
      col('Provisioner', 'Indicates the type of the provisioner.'),
      col('ReclaimPolicy', 'Indicates the type of the reclaim policy.'),
      col('VolumeBindingMode', 'Indicates how PersistentVolumeClaims should be provisioned and bound.'),
      col('AllowVolumeExpansion', 'Indicates whether the storage class allow volume expand.'),
      AGE_COLUMN,
    ],
    row: (o, now) => [
      isDefaultClass(o) ? `${o.metadata.name} (default)` : o.metadata.name,
      o.provisioner ?? '',
      o.reclaimPolicy ?? 'Delete',
      o.volumeBindingMode ?? 'Immediate',
      yesNo(o.allowVolumeExpansion),
      age(o.metadata.creationTimestamp, now),
    ],
  },
};

export const csiDriverStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.attachRequired ??= true;
    o.spec.podInfoOnMount ??= false;
    o.spec.storageCapacity ??= false;
    o.spec.requiresRepublish ??= false;
    o.spec.seLinuxMount ??= false;
    o.spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
    o.spec.volumeLifecycleModes ??= ['Persistent'];
  },
  validate: (o) => validateProvisioner(o.metadata.name, 'metadata.name'),
  validateUpdate: (n, o) => [
    ...immutable('spec.attachRequired', n.spec?.attachRequired, o.spec?.attachRequired),
    ...immutable('spec.volumeLifecycleModes', n.spec?.volumeLifecycleModes, o.spec?.volumeLifecycleModes),
  ],
  table: {
    columns: [
      NAME_COLUMN,
      col(
        'AttachRequired',
        'Indicates this CSI volume driver requires an attach operation, and that Kubernetes should call attach and wait for any attach operation to complete before proceeding to mount.',
      ),
      col('PodInfoOnMount', 'Indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations.'),
      col('StorageCapacity', 'Indicates this CSI volume driver reports storage capacity.'),
      col('TokenRequests', 'Indicates the audience of the service account token this CSI volume driver requests.'),
      col('RequiresRepublish', 'Indicates this CSI volume driver requires NodePublishVolume being periodically called.'),
      col('Modes', 'Indicates volume lifecycle modes supported by this CSI driver.'),
      AGE_COLUMN,
    ],
    row: (o, now) => [
      o.metadata.name,
      yesNo(o.spec?.attachRequired),
      yesNo(o.spec?.podInfoOnMount),
      yesNo(o.spec?.storageCapacity),
      ((o.spec?.tokenRequests ?? []) as { audience: string }[]).map((t) => t.audience).join(',') || '<unset>',
      yesNo(o.spec?.requiresRepublish),
      ((o.spec?.volumeLifecycleModes ?? []) as string[]).join(',') || '<none>',
      age(o.metadata.creationTimestamp, now),
    ],
  },
};

export const csiNodeStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.drivers ??= [];
  },
  validate(o) {
    const errs: FieldError[] = [];
    ((o.spec?.drivers ?? []) as { name?: string; nodeID?: string }[]).forEach((d, i) => {
      errs.push(...validateProvisioner(d.name, `spec.drivers[${i}].name`));
      if (!d.nodeID) errs.push(required(`spec.drivers[${i}].nodeID`, 'nodeID of the node is required'));
    });
    return errs;
  },
  table: {
    columns: [NAME_COLUMN, col('Drivers', 'Drivers indicates the number of CSI drivers registered on the node', 0, 'integer'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, (o.spec?.drivers ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
};

export const volumeAttachmentStrategy: Strategy = {
  // status.attached has no omitempty in Go: every VolumeAttachment upstream serves carries it
  defaults(o) {
    o.status = { ...(o.status ?? {}), attached: o.status?.attached ?? false };
  },
  prepareForCreate(o) {
    o.status = { attached: false };
  },
  validate(o) {
    const s = o.spec ?? {};
    const errs = validateProvisioner(s.attacher, 'spec.attacher');
    if (!s.nodeName) errs.push(required('spec.nodeName'));
    const n = [s.source?.persistentVolumeName, s.source?.inlineVolumeSpec].filter((v) => v !== undefined && v !== null).length;
    if (n !== 1) errs.push(forbidden('spec.source', 'must specify exactly one of inlineVolumeSpec and persistentVolumeName'));
    return errs;
  },
  validateUpdate: (n, o) => immutable('spec', n.spec, o.spec),
  table: {
    columns: [
      NAME_COLUMN,
      col('Attacher', 'Attacher indicates the name of the volume driver that MUST handle this request.'),
      col('PV', 'Name of the persistent volume to attach.'),
      col('Node', 'The node that the volume should be attached to.'),
      col('Attached', 'Indicates the volume is successfully attached.', 0, 'boolean'),
      AGE_COLUMN,
    ],
    row: (o, now) => [
      o.metadata.name,
      o.spec?.attacher ?? '',
      o.spec?.source?.persistentVolumeName ?? '',
      o.spec?.nodeName ?? '',
      !!o.status?.attached,
      age(o.metadata.creationTimestamp, now),
    ],
  },
};

export const csiStorageCapacityStrategy: Strategy = {
  defaults(o) {
    if (o.capacity !== undefined) o.capacity = canonicalQuantity(o.capacity);
    if (o.maximumVolumeSize !== undefined) o.maximumVolumeSize = canonicalQuantity(o.maximumVolumeSize);
  },
  validate: (o) => (o.storageClassName ? [] : [required('storageClassName')]),
  validateUpdate: (n, o) => immutable('storageClassName', n.storageClassName, o.storageClassName),
  table: {
    columns: [
      NAME_COLUMN,
      col('StorageClassName', 'The name of the StorageClass that the reported capacity applies to.'),
      col('Capacity', 'Capacity value of this CSIStorageCapacity.'),
      AGE_COLUMN,
    ],
    row: (o, now) => [o.metadata.name, o.storageClassName ?? '', String(o.capacity ?? ''), age(o.metadata.creationTimestamp, now)],
  },
};

export const volumeAttributesClassStrategy: Strategy = {
  validate: (o) => validateProvisioner(o.driverName, 'driverName'),
  validateUpdate: (n, o) => [
    ...(same(n.parameters, o.parameters) ? [] : [forbidden('parameters', 'updates to parameters are forbidden.')]),
    ...immutable('driverName', n.driverName, o.driverName),
  ],
  table: {
    columns: [NAME_COLUMN, col('DriverName', 'Indicates the driver that handles this class.'), AGE_COLUMN],
    row: (o, now) => [o.metadata.name, o.driverName ?? '', age(o.metadata.creationTimestamp, now)],
  },
};
