// The naming decision of upstream's NamingConditionController (pure): which of a CRD's requested
// names it may have, given the names other CRDs of its group accepted and the built-in resources of
// that group, and the NamesAccepted and Established conditions that follow.
import type { ResourceInfo } from '../registry.ts';
import { type CRD, type CRDCondition, type CRDNames, condition } from './types.ts';

export interface NamesDecision {
  acceptedNames: Partial<CRDNames>;
  namesAccepted: CRDCondition;
  established: CRDCondition;
}

function usedNames(crd: CRD, others: CRD[], builtins: ResourceInfo[]): { resources: Set<string>; kinds: Set<string> } {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const o of others) {
    if (o.metadata.name === crd.metadata.name || o.spec.group !== crd.spec.group) continue;
    const n = o.status?.acceptedNames ?? {};
    for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) resources.add(r);
    for (const k of [n.kind, n.listKind]) if (k) kinds.add(k);
  }
  for (const b of builtins) {
    if (b.group !== crd.spec.group) continue;
    for (const r of [b.plural, b.singular, ...(b.shortNames ?? [])]) if (r) resources.add(r);
    kinds.add(b.kind).add(`${b.kind}List`);
  }
  return { resources, kinds };
}

/** nil when the requested name equals the accepted one or is free; else upstream's message */
function conflict(requested: string | undefined, accepted: string | undefined, used: Set<string>): string | undefined {
  if (!requested || requested === accepted || !used.has(requested)) return undefined;
  return `"${requested}" is already in use`;
}

export function decideNames(crd: CRD, others: CRD[], builtins: ResourceInfo[]): NamesDecision {
  const { resources, kinds } = usedNames(crd, others, builtins);
  const req = crd.spec.names;
  const acc = crd.status?.acceptedNames ?? {};
  const next: Partial<CRDNames> = { ...acc, plural: acc.plural ?? '', kind: acc.kind ?? '' };
  let failed: { reason: string; message: string } | undefined;
  const fail = (reason: string, message: string) => (failed ??= { reason, message });
  const pick = <K extends 'plural' | 'singular' | 'kind' | 'listKind'>(k: K, used: Set<string>, reason: string) => {
    const c = conflict(req[k], acc[k], used);
    if (c) fail(reason, c);
    else if (req[k] !== undefined) next[k] = req[k];
  };
  pick('plural', resources, 'PluralConflict');
  pick('singular', resources, 'SingularConflict');
  const shortConflict = (req.shortNames ?? []).map((s) => ((acc.shortNames ?? []).includes(s) ? undefined : conflict(s, undefined, resources))).find(Boolean);
  if (shortConflict) fail('ShortNamesConflict', shortConflict);
  else if (req.shortNames) next.shortNames = req.shortNames;
  else delete next.shortNames;
  pick('kind', kinds, 'KindConflict');
  pick('listKind', kinds, 'ListKindConflict');
  if (req.categories) next.categories = req.categories;
  else delete next.categories;
  const namesAccepted: CRDCondition = failed
    ? { type: 'NamesAccepted', status: 'False', ...failed }
    : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  let established: CRDCondition = { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' };
  if (failed) established = { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' };
  else if (condition(crd, 'Established')?.status === 'True') established = condition(crd, 'Established')!;
  return { acceptedNames: next, namesAccepted, established };
}

/** Sets a condition, keeping lastTransitionTime when its status did not change. */
export function setCondition(conds: CRDCondition[], c: CRDCondition, now: string): CRDCondition[] {
  const old = conds.find((x) => x.type === c.type);
  const next = { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : now };
  return [...conds.filter((x) => x.type !== c.type), next];
}
