// core/v1 PersistentVolumes and PersistentVolumeClaims: upstream's defaulting, the validation of
// the fields users hit (access modes, sizes, one volume source, what may change after creation),
// the protection finalizers StorageObjectInUseProtection adds, DefaultStorageClass admission, and
// kubectl get's columns.
import { forbidden as forbiddenStatus } from '../errors.ts';
import { canonicalQuantity } from '../quota.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from '../validation/field.ts';
import { dns1123Subdomain } from '../validation/names.ts';
import { parseQuantity } from '../../../api/pod-defaults.ts';
import { getOwn } from '../safe-keys.ts';
import type { Obj, Strategy, StrategyContext } from './types.ts';

export const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION = 'kubernetes.io/pv-protection';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const SHORT_MODES: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];
const RECLAIM = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
/** the PersistentVolumeSource members: exactly one must be set */
const PV_SOURCES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'glusterfs',
  'flocker',
  'nfs',
  'rbd',
  'quobyte',
  'cephfs',
  'iscsi',
  'cinder',
  'fc',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'photonPersistentDisk',
  'portworxVolume',
  'azureDisk',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

/** upstream GetAccessModesAsString: "RWO,ROX" in a fixed order. */
export function accessModesString(modes: string[] | undefined): string {
  return SHORT_MODES.filter(([m]) => (modes ?? []).includes(m))
    .map(([, s]) => s)
    .join(',');
}

function canonicalMap(m: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, canonicalQuantity(v)]));
}

function validateAccessModes(modes: string[] | undefined, path: string, requiredDetail?: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!modes?.length) errs.push(required(path, requiredDetail));
  for (const m of modes ?? []) if (!ACCESS_MODES.includes(m)) errs.push(notSupported(path, m, ACCESS_MODES));
  if ((modes ?? []).includes('ReadWriteOncePod') && (modes ?? []).some((m) => m !== 'ReadWriteOncePod' && ACCESS_MODES.includes(m)))
    errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** ValidatePositiveQuantityValue: a size must parse and be above zero. */
function validatePositive(v: unknown, path: string): FieldError[] {
  const n = parseQuantity(v);
  if (n === undefined) return [invalid(path, v, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  if (n <= 0) return [invalid(path, String(v), 'must be greater than zero')];
  return [];
}

function validateClassName(name: string | undefined, path: string): FieldError[] {
  if (!name) return [];
  return dns1123Subdomain(name).map((m) => invalid(path, name, m));
}

function validateVolumeMode(mode: string | undefined, path: string): FieldError[] {
  return mode !== undefined && !VOLUME_MODES.includes(mode) ? [notSupported(path, mode, VOLUME_MODES)] : [];
}

const hasNodeTerms = (o: Obj) => !!o.spec?.nodeAffinity?.required?.nodeSelectorTerms?.length;

export function validatePersistentVolume(o: Obj): FieldError[] {
  const s = o.spec ?? {};
  const errs = validateAccessModes(s.accessModes, 'spec.accessModes');
  const cap = (s.capacity ?? {}) as Record<string, unknown>;
  const keys = Object.keys(cap);
  if (!keys.length) errs.push(required('spec.capacity'));
  if (!keys.includes('storage') || keys.length > 1) errs.push(notSupported('spec.capacity', cap, ['storage']));
  for (const k of keys) errs.push(...validatePositive(getOwn(cap, k), `spec.capacity[${k}]`));
  if (s.persistentVolumeReclaimPolicy && !RECLAIM.includes(s.persistentVolumeReclaimPolicy))
    errs.push(notSupported('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, RECLAIM));
  const sources = PV_SOURCES.filter((k) => s[k] !== undefined && s[k] !== null);
  if (!sources.length) errs.push(required('spec', 'must specify a volume type'));
  for (const k of sources.slice(1)) errs.push(forbidden(`spec.${k}`, 'may not specify more than 1 volume type'));
  if (sources[0] === 'hostPath' && !s.hostPath.path) errs.push(required('spec.hostPath.path'));
  if (sources[0] === 'local') {
    if (!s.local.path) errs.push(required('spec.local.path'));
    if (!hasNodeTerms(o)) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  errs.push(...validateClassName(s.storageClassName, 'spec.storageClassName'));
  errs.push(...validateVolumeMode(s.volumeMode, 'spec.volumeMode'));
  return errs;
}

function pvSource(s: Record<string, unknown> | undefined): string {
  return JSON.stringify(Object.fromEntries(PV_SOURCES.filter((k) => s?.[k] !== undefined).map((k) => [k, s?.[k]])));
}

export function validatePersistentVolumeUpdate(next: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (pvSource(next.spec) !== pvSource(old.spec))
    errs.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  if (next.spec?.volumeMode !== old.spec?.volumeMode) errs.push(invalid('volumeMode', next.spec?.volumeMode, 'field is immutable'));
  if (old.spec?.nodeAffinity && JSON.stringify(next.spec?.nodeAffinity) !== JSON.stringify(old.spec.nodeAffinity))
    errs.push(invalid('nodeAffinity', next.spec?.nodeAffinity, 'field is immutable'));
  return errs;
}

export function validateClaimSpec(s: Record<string, any> | undefined, path: string): FieldError[] {
  const errs = validateAccessModes(s?.accessModes, `${path}.accessModes`, 'at least 1 access mode is required');
  const storage = s?.resources?.requests ? getOwn(s.resources.requests, 'storage') : undefined;
  if (storage === undefined) errs.push(required(`${path}.resources[storage]`));
  else errs.push(...validatePositive(storage, `${path}.resources[storage]`));
  errs.push(...validateClassName(s?.storageClassName, `${path}.storageClassName`));
  errs.push(...validateVolumeMode(s?.volumeMode, `${path}.volumeMode`));
  return errs;
}

const storageOf = (r: Record<string, unknown> | undefined) => parseQuantity(r ? getOwn(r, 'storage') : undefined) ?? 0;

export function validateClaimUpdate(next: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const a = structuredClone(old.spec ?? {});
  const b = structuredClone(next.spec ?? {});
  // the PV controller sets volumeName once; a bound claim may grow and change its attributes class
  if (!a.volumeName) a.volumeName = b.volumeName;
  if (next.status?.phase === 'Bound') {
    if (b.resources?.requests) b.resources.requests.storage = a.resources?.requests?.storage;
    b.volumeAttributesClassName = a.volumeAttributesClassName;
  }
  if (JSON.stringify(a) !== JSON.stringify(b))
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  const newSize = storageOf(next.spec?.resources?.requests);
  if (newSize < storageOf(old.spec?.resources?.requests) && newSize <= storageOf(old.status?.capacity))
    errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  return errs;
}

/**
 * DefaultStorageClass admission: a claim that names no class gets the default one (the newest
 * when several are marked, as upstream since 1.26).
 */
export async function admitDefaultClass(o: Obj, ctx: StrategyContext): Promise<void> {
  if (o.spec?.storageClassName !== undefined && o.spec?.storageClassName !== null) return;
  if (o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
  const classes = (await ctx.list('storageclasses', 'storage.k8s.io')).filter(isDefaultClass);
  classes.sort(
    (x, y) =>
      String(y.metadata.creationTimestamp).localeCompare(String(x.metadata.creationTimestamp)) ||
      String(x.metadata.name).localeCompare(String(y.metadata.name)),
  );
  if (classes[0]) o.spec.storageClassName = classes[0].metadata.name;
}

const claimClass = (o: Obj): string => o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? o.spec?.storageClassName ?? '';

/**
 * PersistentVolumeClaimResize admission (after validation, as upstream's validating plugin): a
 * claim may grow only once Bound, and only when its class sets allowVolumeExpansion.
 */
export async function admitClaimResize(next: Obj, old: Obj, ctx: StrategyContext): Promise<void> {
  if (storageOf(next.spec?.resources?.requests) <= storageOf(old.spec?.resources?.requests)) return;
  const refuse = (why: string) => forbiddenStatus({ group: '', plural: 'persistentvolumeclaims' }, next.metadata.name!, why);
  if (old.status?.phase !== 'Bound') throw refuse('Only bound persistent volume claims can be expanded');
  const cls = claimClass(next);
  const sc = cls && cls === claimClass(old) ? (await ctx.list('storageclasses', 'storage.k8s.io')).find((x) => x.metadata.name === cls) : undefined;
  if (sc?.allowVolumeExpansion !== true)
    throw refuse('only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize');
}

export function isDefaultClass(sc: Obj): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

function addFinalizer(o: Obj, f: string): void {
  const fs = o.metadata.finalizers ?? [];
  if (!fs.includes(f)) o.metadata.finalizers = [...fs, f];
}

const capacity = (c: Record<string, unknown> | undefined) => String((c && getOwn(c, 'storage')) ?? '');

export const persistentVolumeStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
    o.spec.volumeMode ??= 'Filesystem';
    if (o.spec.capacity) o.spec.capacity = canonicalMap(o.spec.capacity);
  },
  prepareForCreate(o) {
    o.status = { phase: 'Pending' };
    addFinalizer(o, PV_PROTECTION);
  },
  validate: validatePersistentVolume,
  validateUpdate: validatePersistentVolumeUpdate,
  selectableFields: (o) => ({ 'spec.claimRef.name': o.spec?.claimRef?.name ?? '', 'spec.claimRef.namespace': o.spec?.claimRef?.namespace ?? '' }),
  table: {
    columns: [
      NAME_COLUMN,
      col('Capacity', "capacity is the description of the persistent volume's resources and capacity."),
      col('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'StorageClass of the pv'),
      col('VolumeAttributesClass', 'VolumeAttributesClass of the pv'),
      col('Reason', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', 1),
    ],
    row: (o, now) => {
      const ref = o.spec?.claimRef;
      return [
        o.metadata.name,
        capacity(o.spec?.capacity),
        accessModesString(o.spec?.accessModes),
        o.spec?.persistentVolumeReclaimPolicy ?? '',
        o.status?.phase ?? '',
        ref ? `${ref.namespace}/${ref.name}` : '',
        o.spec?.storageClassName ?? '',
        o.spec?.volumeAttributesClassName || '<unset>',
        o.status?.reason ?? '',
        age(o.metadata.creationTimestamp, now),
        o.spec?.volumeMode ?? '<unset>',
      ];
    },
  },
};

export const persistentVolumeClaimStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.volumeMode ??= 'Filesystem';
    if (o.spec.resources?.requests) o.spec.resources.requests = canonicalMap(o.spec.resources.requests);
    if (o.spec.resources?.limits) o.spec.resources.limits = canonicalMap(o.spec.resources.limits);
  },
  prepareForCreate(o) {
    o.status = { phase: 'Pending' };
    addFinalizer(o, PVC_PROTECTION);
  },
  prepareForUpdate(next) {
    if (next.status?.capacity) next.status.capacity = canonicalMap(next.status.capacity);
  },
  validate: (o) => validateClaimSpec(o.spec, 'spec'),
  validateUpdate: validateClaimUpdate,
  beforeCreate: admitDefaultClass,
  beforeUpdate: admitClaimResize,
  table: {
    columns: [
      NAME_COLUMN,
      col('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'accessModes contains the actual access modes the volume backing the PVC has.'),
      col('StorageClass', 'StorageClass of the pvc'),
      col('VolumeAttributesClass', 'VolumeAttributesClass of the pvc'),
      AGE_COLUMN,
      col('VolumeMode', 'volumeMode defines what type of volume is required by the claim.', 1),
    ],
    row: (o, now) => [
      o.metadata.name,
      o.status?.phase ?? '',
      o.spec?.volumeName ?? '',
      capacity(o.status?.capacity),
      accessModesString(o.status?.accessModes),
      o.spec?.storageClassName ?? '',
      o.spec?.volumeAttributesClassName || '<unset>',
      age(o.metadata.creationTimestamp, now),
      o.spec?.volumeMode ?? '<unset>',
    ],
  },
};
