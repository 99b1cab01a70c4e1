// Ephemeral containers (kubectl debug), validated as upstream's validateEphemeralContainers and
// ValidatePodEphemeralContainersUpdate: names unique across every container of the pod, a
// targetContainerName that names a regular or init container, none of the fields that would make
// a debugging container part of the workload (ports, probes, resources, lifecycle, subPath
// mounts), never set at creation, and through the subresource only additions.
import { type FieldError, duplicate, forbidden, notFoundField } from './field.ts';
import { canon } from './pod.ts';

type Any = Record<string, any>;

const NOT_ALLOWED = ['ports', 'resources', 'resizePolicy', 'restartPolicy', 'lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'];
const NOT_ALLOWED_MSG = 'cannot be set for an Ephemeral Container';

const set = (v: unknown) =>
  v !== undefined &&
  v !== null &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** The rules an ephemeral container adds to the common container ones (checked by the caller). */
export function validateEphemeralContainers(spec: Any, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set<string>([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c: Any) => c.name));
  const all = new Set(others);
  (spec.ephemeralContainers ?? []).forEach((ec: Any, i: number) => {
    const p = `${path}.ephemeralContainers[${i}]`;
    if (ec.name) {
      if (all.has(ec.name)) errs.push(duplicate(`${p}.name`, ec.name));
      else all.add(ec.name);
    }
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(notFoundField(`${p}.targetContainerName`, ec.targetContainerName));
    for (const f of NOT_ALLOWED) if (set(ec[f])) errs.push(forbidden(`${p}.${f}`, NOT_ALLOWED_MSG));
    (ec.volumeMounts ?? []).forEach((m: Any, j: number) => {
      if (m.subPath) errs.push(forbidden(`${p}.volumeMounts[${j}].subPath`, NOT_ALLOWED_MSG));
      if (m.subPathExpr) errs.push(forbidden(`${p}.volumeMounts[${j}].subPathExpr`, NOT_ALLOWED_MSG));
    });
  });
  return errs;
}

/** A pod's creation may not carry ephemeral containers. */
export function validateNoEphemeralOnCreate(spec: Any | undefined): FieldError[] {
  return (spec?.ephemeralContainers ?? []).length ? [forbidden('spec.ephemeralContainers', 'cannot be set on create')] : [];
}

/** Through pods/<name>/ephemeralcontainers: existing ones stay as they are; static pods get none. */
export function validateEphemeralUpdate(next: Any, old: Any): FieldError[] {
  if (old.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [forbidden('', 'static pods do not support ephemeral containers')];
  const errs: FieldError[] = [];
  const byName = new Map<string, Any>((next.spec?.ephemeralContainers ?? []).map((c: Any) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = byName.get(o.name);
    if (!n) errs.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(o.name)} may not be removed\n`));
    else if (JSON.stringify(canon(n)) !== JSON.stringify(canon(o)))
      errs.push(forbidden(`spec.ephemeralContainers[${o.name}]`, `existing ephemeral containers ${JSON.stringify(o.name)} may not be changed\n`));
  }
  return errs;
}
