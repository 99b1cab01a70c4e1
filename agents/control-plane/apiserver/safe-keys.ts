// Safe access to objects indexed by client-chosen keys (patch paths, map keys, field-set paths,
// selector keys, review attributes). Go has no prototypes: a key such as "__proto__",
// "constructor" or "toString" is an ordinary map key or an unknown field there. Plain JS objects
// inherit those names from Object.prototype, and `o[k] = v` with k "__proto__" replaces the
// prototype instead of storing a key, so every read here looks at own properties only and every
// write defines an own data property (what JSON.parse does), never walking up the prototype chain.

export type Dict<V = unknown> = Record<string, V>;

/** Whether o has k as its own property (an inherited name never counts). */
export function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** o[k] if o has it as its own property, else undefined. */
export function getOwn<V>(o: Readonly<Dict<V>>, k: string): V | undefined {
  return hasOwn(o, k) ? o[k] : undefined;
}

/** o[k] = v as an own, enumerable data property, also when k is "__proto__". */
export function setOwn<V>(o: Dict<V>, k: string, v: NoInfer<V>): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** Removes o's own property k; an inherited one is never touched. */
export function deleteOwn(o: object, k: string): void {
  if (hasOwn(o, k)) delete (o as Dict)[k];
}
