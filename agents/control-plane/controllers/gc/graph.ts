// The garbage collector's ownership graph and its decisions (pure). Nodes are objects by uid with
// their ownerReferences; the graph answers "who depends on X" and tells which objects need a look
// after a change. Decisions follow upstream: a dependent whose owners are all gone is deleted; one
// that still has a live owner only loses its references to gone owners (or to owners deleting in
// the foreground); an owner in foreground deletion waits for its blocking dependents; an owner in
// orphan deletion first strips itself from its dependents.
import type { Obj } from '../../apiserver/strategies/types.ts';
import type { OwnerRef } from '../workloads/meta.ts';

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';

export interface GraphNode {
  uid: string;
  obj: Obj;
  /** the collection path of the object's resource, for writes */
  path: string;
  dependents: Set<string>;
}

const refsOf = (o: Obj): OwnerRef[] => (o.metadata.ownerReferences as OwnerRef[] | undefined) ?? [];
const hasFinalizer = (o: Obj, f: string) => (o.metadata.finalizers ?? []).includes(f);

/** Being deleted in the foreground: waits for dependents before it goes. */
export const deletingDependents = (o: Obj) => !!o.metadata.deletionTimestamp && hasFinalizer(o, FOREGROUND);
export const orphaning = (o: Obj) => !!o.metadata.deletionTimestamp && hasFinalizer(o, ORPHAN);

export class Graph {
  readonly nodes = new Map<string, GraphNode>();
  /** owner uid -> dependents, also for owners not (yet) seen */
  private readonly byOwner = new Map<string, Set<string>>();

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  dependents(uid: string): GraphNode[] {
    return [...(this.byOwner.get(uid) ?? [])].map((u) => this.nodes.get(u)).filter((n): n is GraphNode => !!n);
  }

  /** Adds or refreshes an object; returns the uids whose state should be re-examined. */
  upsert(obj: Obj, path: string): string[] {
    const uid = obj.metadata.uid!;
    const old = this.nodes.get(uid);
    const oldRefs = old ? refsOf(old.obj) : [];
    const node: GraphNode = { uid, obj, path, dependents: this.byOwner.get(uid) ?? new Set() };
    this.nodes.set(uid, node);
    const newRefs = refsOf(obj);
    for (const r of oldRefs) if (!newRefs.some((n) => n.uid === r.uid)) this.unlink(r.uid, uid);
    for (const r of newRefs) this.link(r.uid, uid);
    const out = new Set<string>();
    const refsChanged = JSON.stringify(oldRefs) !== JSON.stringify(newRefs);
    if (newRefs.length && (!old || refsChanged)) out.add(uid);
    if (deletingDependents(obj) || orphaning(obj)) out.add(uid);
    // owners waiting on dependents re-check when one of them changes references
    for (const r of oldRefs) if (refsChanged) out.add(r.uid);
    // a new foreground deletion: every dependent must now be judged again
    if (deletingDependents(obj) && !(old && deletingDependents(old.obj))) for (const d of node.dependents) out.add(d);
    return [...out].filter((u) => this.nodes.has(u));
  }

  /** Drops a deleted object; its dependents and waiting owners need a look. */
  remove(obj: Obj): string[] {
    const uid = obj.metadata.uid!;
    const node = this.nodes.get(uid);
    if (!node) return [];
    this.nodes.delete(uid);
    for (const r of refsOf(node.obj)) this.unlink(r.uid, uid);
    const out = [...(this.byOwner.get(uid) ?? [])];
    for (const r of refsOf(node.obj)) out.push(r.uid);
    return out.filter((u) => this.nodes.has(u));
  }

  private link(owner: string, dep: string): void {
    const s = this.byOwner.get(owner) ?? new Set<string>();
    s.add(dep);
    this.byOwner.set(owner, s);
  }

  private unlink(owner: string, dep: string): void {
    const s = this.byOwner.get(owner);
    if (!s) return;
    s.delete(dep);
    if (!s.size && !this.nodes.has(owner)) this.byOwner.delete(owner);
  }
}

/** An owner as the collector sees it. */
export type OwnerState = 'absent' | 'solid' | 'waiting';

export function ownerState(owner: Obj | undefined, ref: OwnerRef): OwnerState {
  if (!owner || owner.metadata.uid !== ref.uid) return 'absent';
  return deletingDependents(owner) ? 'waiting' : 'solid';
}

export type Verdict = { action: 'keep' } | { action: 'unlink'; owners: string[] } | { action: 'delete'; propagation: 'Background' | 'Foreground' | 'Orphan' };

/** What happens to a dependent given its owners' states (upstream attemptToDeleteItem). */
export function judgeDependent(dep: Obj, states: Map<string, OwnerState>, hasDependents: boolean): Verdict {
  const refs = refsOf(dep);
  if (!refs.length || dep.metadata.deletionTimestamp) return { action: 'keep' };
  const by = (s: OwnerState) => refs.filter((r) => states.get(r.uid) === s).map((r) => r.uid);
  const solid = by('solid');
  const gone = by('absent');
  const waiting = by('waiting');
  if (solid.length) return gone.length || waiting.length ? { action: 'unlink', owners: [...gone, ...waiting] } : { action: 'keep' };
  if (waiting.length && hasDependents) return { action: 'delete', propagation: 'Foreground' };
  if (hasFinalizer(dep, ORPHAN)) return { action: 'delete', propagation: 'Orphan' };
  if (hasFinalizer(dep, FOREGROUND)) return { action: 'delete', propagation: 'Foreground' };
  return { action: 'delete', propagation: 'Background' };
}

/** Dependents that hold up an owner's foreground deletion (blockOwnerDeletion references). */
export function blockingDependents(owner: Obj, dependents: Obj[]): Obj[] {
  return dependents.filter((d) => refsOf(d).some((r) => r.uid === owner.metadata.uid && r.blockOwnerDeletion));
}

/** The ownerReferences left after dropping some owners. */
export function withoutOwners(dep: Obj, uids: string[]): OwnerRef[] {
  return refsOf(dep).filter((r) => !uids.includes(r.uid));
}

export function withoutFinalizer(o: Obj, f: string): string[] {
  return (o.metadata.finalizers ?? []).filter((x) => x !== f);
}
