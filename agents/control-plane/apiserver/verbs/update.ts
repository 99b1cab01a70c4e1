// PUT of one object or its subresource (upstream's registry/rest UpdateResource).
import { renderOne } from '../output.ts';
import { fieldManager, ok, type VerbHandler } from './context.ts';
import { admittedBody } from './write-body.ts';

export const handleUpdate: VerbHandler = async (env, v) => {
  const { req, rr, attrs, rs, out, ns, dryRun } = v;
  const { body, warnings, webhooks } = await admittedBody(env, v);
  const r = await rs.update(ns, rr.name!, body, {
    dryRun,
    subresource: rr.subresource,
    manager: fieldManager(req),
    admit: env.writeAdmission(attrs),
    webhooks,
  });
  return ok(renderOne(out, r.obj), r.created ? 201 : 200, warnings);
};
