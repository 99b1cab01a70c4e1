// PATCH of one object or its subresource (upstream's registry/rest PatchResource): JSON, merge and
// strategic merge patches applied in a guaranteed update, server-side apply through apply/.
import { serverSideApply } from '../apply/request.ts';
import { decodeBody, mediaType, PATCH_CONTENT_TYPES } from '../body.ts';
import { checkDuplicates, parseFieldValidation, typedDecode } from '../decode.ts';
import { duplicateFields } from '../duplicates.ts';
import { badRequest } from '../errors.ts';
import { renderOne } from '../output.ts';
import { applyPatch } from '../patch/apply.ts';
import { getOwn } from '../safe-keys.ts';
import type { Obj } from '../strategies/types.ts';
import { fieldManager, ok, unsupportedPatch, type VerbHandler } from './context.ts';

export const handlePatch: VerbHandler = async (env, { req, rs, out, ns, rr, dryRun, attrs }) => {
  const admitWrite = env.writeAdmission(attrs);
  const type = getOwn(PATCH_CONTENT_TYPES, mediaType(req.headers['content-type']));
  if (!type) throw unsupportedPatch();
  // custom resources have no patch strategies: upstream refuses a strategic merge patch
  if (type === 'strategic' && rs.res.custom) throw unsupportedPatch(Object.keys(PATCH_CONTENT_TYPES).filter((t) => PATCH_CONTENT_TYPES[t] !== 'strategic'));
  const mode = parseFieldValidation(req.query.get('fieldValidation'));
  const hookWarnings: string[] = [];
  const webhooks = env.webhooksFor(req, rr, rs.res, dryRun, hookWarnings);
  // the object a patch produces is admitted like a created or replaced one (an apply that
  // creates is a create to admission, as upstream's admission.Create)
  const admit = async (obj: Obj, operation: 'create' | 'update' = 'update') => {
    const refused = await env.admit?.(operation === 'create' ? { ...attrs, verb: 'create' } : attrs, obj);
    if (refused) throw refused;
  };
  if (type === 'apply') {
    const a = await serverSideApply(rs, {
      namespace: ns,
      name: rr.name!,
      subresource: rr.subresource,
      body: req.body,
      query: req.query,
      dryRun,
      mode,
      now: env.now(),
      admit,
      admitWrite,
      webhooks,
    });
    return ok(renderOne(out, a.obj), a.created ? 201 : 200, [...a.warnings, ...hookWarnings]);
  }
  const doc = decodeBody(req.body, 'application/json');
  const dups = checkDuplicates(duplicateFields(req.body, 'application/json', mode), mode);
  let warnings: string[] = [];
  const obj = await rs.guaranteedUpdate(
    ns,
    rr.name!,
    async (cur) => {
      const patched = applyPatch(type, cur, doc, rs.res.model) as Obj;
      if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw badRequest('patch produced a non-object');
      patched.metadata ??= {};
      // a patch that does not name a resourceVersion applies to whatever is current
      if (patched.metadata.resourceVersion === cur.metadata.resourceVersion) delete patched.metadata.resourceVersion;
      warnings = typedDecode(patched, rs.res, mode);
      await admit(patched);
      return patched;
    },
    { dryRun, subresource: rr.subresource, manager: fieldManager(req), admit: admitWrite, webhooks },
  );
  return ok(renderOne(out, obj), 200, [...dups, ...warnings, ...hookWarnings]);
};
