// POST pods/<name>/eviction (policy/v1 Eviction), as upstream's EvictionREST: a pod that is
// pending, finished or already being deleted goes at once; otherwise the one PodDisruptionBudget
// selecting it must allow a disruption, which the eviction takes (disruptionsAllowed - 1 and the
// pod recorded in disruptedPods, so the disruption controller does not count it healthy while it
// goes); a budget that allows none is a 429 TooManyRequests with the DisruptionBudget cause, which
// kubectl drain waits on and retries. An evicted pod gets the DisruptionTarget condition first.
import { decodeBody, requireObject } from './body.ts';
import { typedDecode } from './decode.ts';
import { checkPreconditions, type DeleteOptions, type ResourceStore } from './crud.ts';
import { ApiError, badRequest, forbidden } from './errors.ts';
import { isoNow, type Obj } from './strategies/types.ts';
import { pdbSelects, withDisruptionCondition } from '../controllers/disruption/rules.ts';
import { isReady } from '../controllers/workloads/meta.ts';

const VIOLATES = "Cannot evict pod as it would violate the pod's disruption budget.";
/** upstream MaxDisruptedPodSize */
const MAX_DISRUPTED_PODS = 2000;

const tooManyRequests = (cause: string, retryAfterSeconds: number) =>
  new ApiError(429, 'TooManyRequests', VIOLATES, {
    causes: [{ reason: 'DisruptionBudget', message: cause }],
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });

/** The budget is still being processed (its status predates its spec): try again in 10 s. */
const stillProcessing = (pdb: string) => tooManyRequests(`The disruption budget ${pdb} is still being processed by the server.`, 10);

export interface EvictionAnswer {
  code: number;
  body: Record<string, unknown>;
}

const success = (): EvictionAnswer => ({ code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } });

/** upstream canIgnorePDB: the pod is not running (pending, finished) or is already going. */
const canIgnoreBudget = (pod: Obj) => ['Succeeded', 'Failed', 'Pending'].includes(pod.status?.phase) || !!pod.metadata.deletionTimestamp;

/** upstream checkAndDecrement on the budget as it is stored now; the written status (dry run: what it would be). */
function takeDisruption(pdb: Obj, podName: string, now: Date, dryRun: boolean): Obj {
  const st = pdb.status ?? {};
  const name = pdb.metadata.name!;
  const pdbGr = { group: 'policy', plural: 'poddisruptionbudget' };
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) throw stillProcessing(name);
  if ((st.disruptionsAllowed ?? 0) < 0) throw forbidden(pdbGr, name, 'pdb disruptions allowed is negative');
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS)
    throw forbidden(pdbGr, name, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (!st.disruptionsAllowed)
    throw tooManyRequests(`The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`, 0);
  let next = { ...st, disruptionsAllowed: st.disruptionsAllowed - 1 };
  if (next.disruptionsAllowed === 0) next = withDisruptionCondition(next, now);
  if (!dryRun) next.disruptedPods = { ...(st.disruptedPods ?? {}), [podName]: isoNow(now) };
  pdb.status = next;
  return pdb;
}

/** upstream addConditionAndDeletePod: DisruptionTarget on the pod's status, then the delete. */
async function markAndDelete(pods: ResourceStore, ns: string, name: string, opts: DeleteOptions, now: Date): Promise<void> {
  let o = opts;
  if (!opts.dryRun) {
    const updated = await pods.guaranteedUpdate(
      ns,
      name,
      (cur) => {
        checkPreconditions(pods.gr, cur, opts.preconditions);
        const conds: Obj[] = cur.status?.conditions ?? [];
        const old = conds.find((c) => c.type === 'DisruptionTarget');
        const cond = {
          type: 'DisruptionTarget',
          status: 'True',
          lastProbeTime: null,
          lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : isoNow(now),
          reason: 'EvictionByEvictionAPI',
          message: 'Eviction API: evicting',
        };
        cur.status = { ...(cur.status ?? {}), conditions: old ? conds.map((c) => (c === old ? cond : c)) : [...conds, cond] };
        return cur;
      },
      { subresource: 'status' },
    );
    // the condition bumped the version the caller (or the unhealthy-pod rule) pinned
    if (opts.preconditions?.resourceVersion) o = { ...opts, preconditions: { ...opts.preconditions, resourceVersion: updated.metadata.resourceVersion } };
  }
  await pods.delete(ns, name, o);
}

/** POST pods/<name>/eviction. */
export async function evict(
  pods: ResourceStore,
  pdbs: ResourceStore,
  ns: string,
  name: string,
  body: Buffer | undefined,
  contentType: string | undefined,
  queryDryRun: boolean,
): Promise<EvictionAnswer> {
  const ev = requireObject(decodeBody(body, contentType, 'policy.Eviction'));
  // typed as upstream decodes it: gracePeriodSeconds "abc" is a 400, not a delete without grace
  typedDecode(ev, pods.res, 'Ignore', 'V1Eviction', 'Eviction');
  if (ev.metadata?.name && ev.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
  const o = ev.deleteOptions ?? {};
  // upstream propagateDryRun: the request's dryRun and the Eviction's deleteOptions.dryRun are one
  const dryRun = queryDryRun || (Array.isArray(o.dryRun) && o.dryRun.length > 0);
  const opts: DeleteOptions = {
    gracePeriodSeconds: o.gracePeriodSeconds ?? undefined,
    preconditions: o.preconditions ?? undefined,
    propagationPolicy: o.propagationPolicy ?? undefined,
    dryRun,
  };
  const now = new Date();
  const pod = await pods.get(ns, name);
  if (canIgnoreBudget(pod)) {
    await markAndDelete(pods, ns, name, opts, now);
    return success();
  }
  const budgets = (await pdbs.list(ns)).items.filter((b) => pdbSelects(b, pod.metadata.labels));
  if (budgets.length > 1)
    return {
      code: 500,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
        code: 500,
      },
    };
  let pinned = false;
  if (budgets.length === 1) {
    const pdb = budgets[0];
    const st = pdb.status ?? {};
    const unhealthyGoes =
      !isReady(pod) &&
      (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' || ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0));
    if (unhealthyGoes) pinned = true;
    else if (dryRun) takeDisruption(await pdbs.get(ns, pdb.metadata.name!), name, now, true);
    else await pdbs.guaranteedUpdate(ns, pdb.metadata.name!, (cur) => takeDisruption(cur, name, now, false), { subresource: 'status' });
  }
  // an unready pod goes without taking a disruption only while it is still unready: pin its version
  const delOpts =
    pinned && !opts.preconditions?.resourceVersion
      ? { ...opts, preconditions: { ...opts.preconditions, resourceVersion: pod.metadata.resourceVersion } }
      : opts;
  try {
    await markAndDelete(pods, ns, name, delOpts, now);
  } catch (e) {
    if (e instanceof ApiError && e.code === 409 && pinned && !opts.preconditions?.resourceVersion) throw stillProcessing(budgets[0].metadata.name!);
    throw e;
  }
  return success();
}
