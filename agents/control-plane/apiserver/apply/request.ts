// A server-side apply request (PATCH, application/apply-patch+yaml): decode and check the applied
// configuration, then create the object or apply it to the live one with conflict detection.
import { decodeBody, requireObject } from '../body.ts';
import type { ResourceStore, WriteOptions } from '../crud.ts';
import { checkDuplicates, dropUnknown, type FieldValidation, typedDecode } from '../decode.ts';
import { duplicateFields } from '../duplicates.ts';
import { ApiError, badRequest, conflict, notFound, unknownError } from '../errors.ts';
import { queryBool } from '../request.ts';
import { apiVersionOf, type ResourceInfo } from '../registry.ts';
import type { Obj } from '../strategies/types.ts';
import { applyConfig, conflictError } from './managed.ts';

export interface ApplyRequest {
  namespace?: string;
  name: string;
  subresource?: string;
  body?: Buffer;
  query: URLSearchParams;
  dryRun: boolean;
  mode: FieldValidation;
  now: Date;
  /**
   * admission of the object about to be stored (RBAC escalation; on a create also what upstream
   * admits as a create, e.g. ServiceAccount admission of pods); throws its refusal
   */
  admit?: (obj: Obj, operation: 'create' | 'update') => Promise<void>;
  /** the request's validating admission against the current object (NodeRestriction), handed to the store */
  admitWrite?: WriteOptions['admit'];
  /** the request's admission webhooks */
  webhooks?: WriteOptions['webhooks'];
}

/**
 * A custom object's applied configuration names only fields its schema declares, whatever
 * fieldValidation says: upstream's structured-merge-diff type converter fails on any other
 * (a plain error, so a 500 without a reason), listing each at its path.
 */
function refuseUndeclared(cfg: Obj, res: ResourceInfo): void {
  const undeclared = dropUnknown(cfg, res).map((path) => `.${path}: field not declared in schema`);
  if (!undeclared.length) return;
  const which = `${cfg.metadata?.namespace ?? ''}/${cfg.metadata?.name ?? ''}; ${res.group}/${res.version}, Kind=${res.kind}`;
  const errs = undeclared.length === 1 ? undeclared[0] : ['errors:', ...undeclared.map((e) => `  ${e}`)].join('\n');
  throw unknownError(`failed to create typed patch object (${which}): ${errs}`);
}

/** The stored object, whether it was created, and the decode warnings. */
export async function serverSideApply(rs: ResourceStore, r: ApplyRequest): Promise<{ obj: Obj; created: boolean; warnings: string[] }> {
  const manager = r.query.get('fieldManager');
  if (!manager) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
  // PatchOptions.force as the parameter codec reads a *bool: only "0" and "false" (any case) are false
  const force = queryBool(r.query, 'force') ?? false;
  const cfg = requireObject(decodeBody(r.body, 'application/apply-patch+yaml')) as Obj;
  if (!cfg.apiVersion) throw badRequest('apiVersion must be set in an applied configuration');
  if (!cfg.kind) throw badRequest('kind must be set in an applied configuration');
  const warnings = checkDuplicates(duplicateFields(r.body, 'application/apply-patch+yaml'), r.mode);
  if (rs.res.custom) refuseUndeclared(cfg, rs.res);
  else warnings.push(...typedDecode(cfg, rs.res, r.mode));
  cfg.metadata ??= {};
  if (cfg.metadata.name && cfg.metadata.name !== r.name)
    throw badRequest(`the name of the object (${cfg.metadata.name}) does not match the name on the URL (${r.name})`);
  cfg.metadata.name = r.name;
  rs.normalize(r.namespace, cfg);
  // the main resource does not take status (the status subresource applies it)
  if (rs.res.subresources.includes('status') && r.subresource !== 'status') delete cfg.status;
  const wantRV = cfg.metadata.resourceVersion;
  delete cfg.metadata.resourceVersion;
  const w = { manager, apiVersion: apiVersionOf(rs.res), subresource: r.subresource, now: r.now, force };
  const existing = await rs.get(r.namespace, r.name).catch((e) => (e instanceof ApiError && e.code === 404 ? undefined : Promise.reject(e)));
  if (!existing) {
    if (r.subresource) throw notFound(rs.gr, r.name);
    const { obj } = applyConfig(undefined, cfg, rs.res.model, w);
    await r.admit?.(obj, 'create');
    return {
      obj: await rs.create(r.namespace, obj, { dryRun: r.dryRun, manager, applied: true, admit: r.admitWrite, webhooks: r.webhooks }),
      created: true,
      warnings,
    };
  }
  const obj = await rs.guaranteedUpdate(
    r.namespace,
    r.name,
    async (cur) => {
      if (wantRV && wantRV !== cur.metadata.resourceVersion)
        throw conflict(rs.gr, r.name, 'the object has been modified; please apply your changes to the latest version and try again');
      const a = applyConfig(cur, cfg, rs.res.model, w);
      if (a.conflicts.length && !force) throw conflictError(rs.gr, r.name, a.conflicts);
      delete a.obj.metadata.resourceVersion;
      await r.admit?.(a.obj, 'update');
      return a.obj;
    },
    { dryRun: r.dryRun, subresource: r.subresource, manager, applied: true, admit: r.admitWrite, webhooks: r.webhooks },
  );
  return { obj, created: false, warnings };
}
