// GET of a collection (upstream's registry/rest ListResource): a page of stored texts, narrowed by
// the authorizer's view (the Node authorizer's), which then hides remainingItemCount.
import { renderList } from '../output.ts';
import { listQuery, ok, type VerbHandler } from './context.ts';

export const handleList: VerbHandler = async (_env, { req, rs, ns, view, out }) => {
  const l = await rs.list(ns, listQuery(req.query), { raw: true });
  if (view) l.items = l.items.filter((o) => view.visible(o));
  return ok(
    renderList(out, l, {
      resourceVersion: l.resourceVersion,
      ...(l.continue ? { continue: l.continue } : {}),
      ...(l.remainingItemCount && !view ? { remainingItemCount: l.remainingItemCount } : {}),
    }),
  );
};
