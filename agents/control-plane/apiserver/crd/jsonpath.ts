// The JSONPath subset CRDs use for printer columns, selectable fields and scale paths:
// .a.b, .a[0], .a[*].b, .a['x.y'], optionally wrapped in {}. Returns every match (pure).

type Step = { key: string } | { index: number } | { all: true };

export function parsePath(expr: string): Step[] | undefined {
  let p = expr.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (p.startsWith('$')) p = p.slice(1);
  const steps: Step[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\*\]|\[['"]([^'"]+)['"]\]|\.\*/y;
  let i = 0;
  for (let n = 0; i < p.length && n < 64; n++) {
    re.lastIndex = i;
    const m = re.exec(p);
    if (!m) return undefined;
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else if (m[3] !== undefined) steps.push({ key: m[3] });
    else steps.push({ all: true });
    i = re.lastIndex;
  }
  return i === p.length ? steps : undefined;
}

export function evaluate(obj: unknown, expr: string): unknown[] {
  const steps = parsePath(expr);
  if (!steps) return [];
  let cur: unknown[] = [obj];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      if ('all' in s) next.push(...(Array.isArray(v) ? v : Object.values(v)));
      else if ('index' in s) {
        if (Array.isArray(v) && s.index < v.length) next.push(v[s.index]);
      } else if (!Array.isArray(v) && Object.hasOwn(v, s.key)) next.push((v as Record<string, unknown>)[s.key]);
    }
    cur = next;
  }
  return cur.filter((v) => v !== undefined);
}

/** The single value at a simple path (.spec.replicas), undefined if absent. */
export function valueAt(obj: unknown, path: string): unknown {
  return evaluate(obj, path)[0];
}

/** Sets the value at a simple .a.b.c path, making the objects on the way. */
export function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.').filter(Boolean);
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}
