// The cost bound. kube-apiserver meters CEL as it runs (cel-go's runtime cost, a per-call limit of
// 1,000,000 and a per-object budget of 10,000,000 for CRD rules). @bufbuild/cel evaluates
// synchronously with no meter, so the bound is taken before the call instead: an expression of n
// AST nodes with comprehensions nested d deep over values whose largest list or map has L entries
// does at most n * (L + 1)^d steps; a call whose bound exceeds the per-call limit is not run and
// fails as upstream's "actual cost limit exceeded" does. The bound over-counts, never under-counts.
import type { Compiled } from './compile.ts';
import type { Size } from './value.ts';

export const PER_CALL_LIMIT = 1_000_000;
export const RUNTIME_BUDGET = 10_000_000;

/** The bound on the steps of one call of c over inputs whose largest collection has size entries. */
export function costBound(c: Compiled, size: Size): number {
  const width = (c.splits ? Math.max(size.collection, size.string) : size.collection) + 1;
  return c.nodes * width ** c.loops;
}

export const COST_EXCEEDED = 'operation cancelled: actual cost limit exceeded';
