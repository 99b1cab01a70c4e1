// The scale subresource (autoscaling/v1 Scale over a workload's spec.replicas, as kubectl scale and
// autoscalers use it). pods/eviction is eviction.ts.
import { decodeBody, type PatchType, requireObject } from './body.ts';
import type { ResourceStore } from './crud.ts';
import { badRequest, conflict, invalid } from './errors.ts';
import { applyPatch } from './patch/apply.ts';
import type { Obj } from './strategies/types.ts';
import { setAt, valueAt } from './crd/jsonpath.ts';
import type { ScalePaths } from './registry.ts';
import { fitsIntFormat, jsonValueDescription } from './validation/formats.ts';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: Record<string, unknown>;
  spec: { replicas: number };
  status: { replicas: number; selector?: string };
}

/** metav1.FormatLabelSelector: "a=b,c in (x,y),!d" ('' for no selector). */
export function formatSelector(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
): string {
  const parts = Object.entries(sel?.matchLabels ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    const vals = [...(e.values ?? [])].sort();
    if (e.operator === 'In') parts.push(`${e.key} in (${vals.join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals.join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/**
 * The Scale view of a deployment, replica set or stateful set, or of a custom resource through
 * its CRD's scale paths (the label selector path holds a selector string there) (pure).
 */
export function scaleOf(o: Obj, paths?: ScalePaths): Scale {
  const m = o.metadata;
  const meta = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp };
  if (paths) {
    const sel = paths.labelSelectorPath ? valueAt(o, paths.labelSelectorPath) : undefined;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: meta,
      spec: { replicas: num(valueAt(o, paths.specReplicasPath)) },
      status: { replicas: num(valueAt(o, paths.statusReplicasPath)), ...(typeof sel === 'string' && sel ? { selector: sel } : {}) },
    };
  }
  // a ReplicationController's selector is a plain map of labels
  const selector = formatSelector(o.kind === 'ReplicationController' ? { matchLabels: o.spec?.selector } : o.spec?.selector);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: meta,
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

function setReplicas(rs: ResourceStore, o: Obj, replicas: number): void {
  if (rs.res.scale) setAt(o, rs.res.scale.specReplicasPath, replicas);
  else o.spec.replicas = replicas;
}

function replicasOf(scale: unknown, name: string): number {
  // a JSON patch may replace the whole Scale with a non-object
  if (typeof scale !== 'object' || scale === null || Array.isArray(scale))
    throw badRequest(
      `Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${jsonValueDescription(scale)} into Go value of type autoscaling.Scale`,
    );
  const r = (scale as Record<string, any>).spec?.replicas ?? 0;
  if (!fitsIntFormat(r, 'int32'))
    throw badRequest(
      `Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${jsonValueDescription(r)} into Go struct field ScaleSpec.spec.replicas of type int32`,
    );
  if (r < 0) throw invalid('Scale', 'autoscaling', name, [{ type: 'Invalid', field: 'spec.replicas', value: r, detail: 'must be greater than or equal to 0' }]);
  return r;
}

/** PUT .../scale: set spec.replicas, honouring the Scale's resourceVersion as a precondition. */
export async function updateScale(
  rs: ResourceStore,
  ns: string | undefined,
  name: string,
  body: Buffer | undefined,
  contentType: string | undefined,
  dryRun: boolean,
  manager?: string,
): Promise<Scale> {
  const scale = requireObject(decodeBody(body, contentType, 'autoscaling.Scale'));
  if (scale.metadata?.name && scale.metadata.name !== name)
    throw badRequest(`the name of the object (${scale.metadata.name}) does not match the name on the URL (${name})`);
  const replicas = replicasOf(scale, name);
  const wantRV = scale.metadata?.resourceVersion;
  const obj = await rs.guaranteedUpdate(
    ns,
    name,
    (cur) => {
      if (wantRV && wantRV !== cur.metadata.resourceVersion)
        throw conflict(rs.gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
      setReplicas(rs, cur, replicas);
      delete cur.metadata.resourceVersion;
      return cur;
    },
    { dryRun, manager, subresource: 'scale' },
  );
  return scaleOf(obj, rs.res.scale);
}

/** PATCH .../scale: the patch applies to the Scale; only its spec.replicas reaches the workload. */
export async function patchScale(
  rs: ResourceStore,
  ns: string | undefined,
  name: string,
  type: PatchType,
  doc: unknown,
  dryRun: boolean,
  manager?: string,
): Promise<Scale> {
  const obj = await rs.guaranteedUpdate(
    ns,
    name,
    (cur) => {
      const patched = applyPatch(type, scaleOf(cur, rs.res.scale), doc, 'V1Scale');
      const replicas = replicasOf(patched, name);
      const wantRV = (patched as Record<string, any>).metadata?.resourceVersion;
      if (wantRV && wantRV !== cur.metadata.resourceVersion)
        throw conflict(rs.gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
      setReplicas(rs, cur, replicas);
      delete cur.metadata.resourceVersion;
      return cur;
    },
    { dryRun, manager, subresource: 'scale' },
  );
  return scaleOf(obj, rs.res.scale);
}
