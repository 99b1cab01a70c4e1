// DELETE of one object (upstream's registry/rest DeleteResource): the object while deletion waits
// (grace period, finalizers), else a Success Status, unless the strategy returns the deleted
// object (strategy.returnDeletedObject: pods and namespaces, as upstream's ReturnDeletedObject).
import { renderOne } from '../output.ts';
import { deleteOptions, ok, type VerbHandler } from './context.ts';

export const handleDelete: VerbHandler = async (env, { req, rr, res, rs, out, ns, dryRun }) => {
  const opts = deleteOptions(req);
  const warnings: string[] = [];
  const r = await rs.delete(ns, rr.name!, { ...opts, dryRun, webhooks: env.webhooksFor(req, rr, res, dryRun, warnings) });
  if (!r.gone || rs.strategy.returnDeletedObject) return ok(renderOne(out, r.obj), 200, warnings);
  return ok(
    {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: rr.name, group: res.group || undefined, kind: res.plural, uid: r.obj.metadata.uid },
    },
    200,
    warnings,
  );
};
