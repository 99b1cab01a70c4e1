// DELETE of a collection (upstream's registry/rest DeleteCollection): the deleted objects as a list.
import { listObject } from '../output.ts';
import { deleteOptions, listQuery, ok, type VerbHandler } from './context.ts';

export const handleDeleteCollection: VerbHandler = async (env, { req, rr, res, rs, ns, dryRun }) => {
  const opts = deleteOptions(req);
  const warnings: string[] = [];
  const items = await rs.deleteCollection(ns, listQuery(req.query), { ...opts, dryRun, webhooks: env.webhooksFor(req, rr, res, dryRun, warnings) });
  return ok(listObject(res, items, {}), 200, warnings);
};
