// POST pods/<name>/binding (upstream's pod BindingREST): assign the pod to a node, once.
import { decodeBody, requireObject } from '../body.ts';
import { typedDecode } from '../decode.ts';
import { badRequest, conflict } from '../errors.ts';
import { isoNow } from '../strategies/types.ts';
import { ok, type VerbHandler } from './context.ts';

export const handleBinding: VerbHandler = async (env, { req, rs, ns, rr, dryRun }) => {
  const name = rr.name!;
  const body = requireObject(decodeBody(req.body, req.headers['content-type'], 'core.Binding'));
  typedDecode(body, rs.res, 'Ignore', 'V1Binding', 'Binding');
  if (body.metadata?.name && body.metadata.name !== name)
    throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
  const target = body.target?.name;
  if (!target) throw badRequest('Binding target.name is required');
  await rs.guaranteedUpdate(
    ns,
    name,
    (pod) => {
      if (pod.metadata.deletionTimestamp) throw conflict(rs.gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw conflict(rs.gr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      if (body.metadata?.uid && body.metadata.uid !== pod.metadata.uid) throw conflict(rs.gr, name, 'Precondition failed: UID mismatch');
      pod.spec.nodeName = target;
      const conds = (pod.status.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
      conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: isoNow(env.now()) });
      pod.status.conditions = conds;
      delete pod.metadata.resourceVersion;
      return pod;
    },
    { dryRun, internal: true },
  );
  return ok({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
};
