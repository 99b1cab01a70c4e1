// Shared by the pollution tests (the leading underscore keeps ava from running it): a snapshot of
// the objects every request shares (Object.prototype and friends) and a check that reports, then
// undoes, anything a request changed on them, so one failure does not spread to later cases.

const GUARDED: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Object', Object],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
];
const take = () => GUARDED.map(([, o]) => new Map(Reflect.ownKeys(o).map((k) => [k, Object.getOwnPropertyDescriptor(o, k)!])));
let snapshot = take();

/** Takes the snapshot again (after the control plane hardened the prototypes on purpose). */
export function resetSnapshot(): void {
  snapshot = take();
}

/** What changed on the guarded objects since the snapshot; each change is put back at once. */
export function protoChanges(): string[] {
  const out: string[] = [];
  GUARDED.forEach(([name, o], i) => {
    const before = snapshot[i];
    for (const k of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, k)!;
      const was = before.get(k);
      if (was && was.value === d.value && was.get === d.get && was.set === d.set) continue;
      out.push(`${name}.${String(k)}`);
      if (was) Object.defineProperty(o, k, was);
      else delete (o as Record<PropertyKey, unknown>)[k];
    }
    for (const [k, d] of before) {
      if (Object.getOwnPropertyDescriptor(o, k)) continue;
      out.push(`${name}.${String(k)} (deleted)`);
      if (Object.isExtensible(o)) Object.defineProperty(o, k, d);
    }
  });
  return out;
}
