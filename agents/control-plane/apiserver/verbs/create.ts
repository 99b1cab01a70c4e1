// POST to a collection (upstream's registry/rest CreateResource): decode with fieldValidation,
// admission, webhooks, quota, store. A subresource with its own create (pods/binding) is routed
// through SUBRESOURCE_CREATE, as upstream registers such subresources as their own REST storage.
import { ApiError, methodNotSupported } from '../errors.ts';
import { renderOne } from '../output.ts';
import { createWithQuota } from '../quota-admission.ts';
import { handleBinding } from './binding.ts';
import { fieldManager, ok, type VerbHandler } from './context.ts';
import { admittedBody } from './write-body.ts';

/** Subresources whose create is their own handler (upstream: their own REST storage). */
const SUBRESOURCE_CREATE: Record<string, VerbHandler | undefined> = { binding: handleBinding };

export const handleCreate: VerbHandler = async (env, v) => {
  const { req, rr, res, rs, out, ns, dryRun } = v;
  const sub = rr.subresource ? SUBRESOURCE_CREATE[rr.subresource] : undefined;
  if (sub) return sub(env, v);
  if (rr.name) throw methodNotSupported(rs.gr, 'create');
  if (res.custom?.terminating) throw new ApiError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
  const { body, warnings, webhooks } = await admittedBody(env, v);
  const created = await createWithQuota(
    (plural) => env.storeFor(plural),
    rs,
    ns,
    body,
    () => rs.create(ns, body, { dryRun, manager: fieldManager(req), webhooks }),
  );
  return ok(renderOne(out, created), 201, warnings);
};
