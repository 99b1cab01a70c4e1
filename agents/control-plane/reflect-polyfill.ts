// @peculiar/x509 uses tsyringe, which insists on a Reflect metadata API at load time. No polyfill
// package is among the dependencies, so this provides the small part of that API tsyringe touches
// (metadata kept in a WeakMap per target/property). Import it before @peculiar/x509.
type Key = string | symbol;

const store = new WeakMap<object, Map<Key | undefined, Map<unknown, unknown>>>();

function own(target: object, prop: Key | undefined, create: boolean): Map<unknown, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let m = byProp.get(prop);
  if (!m && create) {
    m = new Map();
    byProp.set(prop, m);
  }
  return m;
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  const getOwnMetadata = (k: unknown, t: object, p?: Key) => own(t, p, false)?.get(k);
  const getMetadata = (k: unknown, t: object, p?: Key): unknown => {
    for (let o: object | null = t; o; o = Object.getPrototypeOf(o)) {
      const m = own(o, p, false);
      if (m?.has(k)) return m.get(k);
    }
    return undefined;
  };
  Object.assign(R, {
    defineMetadata: (k: unknown, v: unknown, t: object, p?: Key) => void own(t, p, true)!.set(k, v),
    getOwnMetadata,
    getMetadata,
    hasOwnMetadata: (k: unknown, t: object, p?: Key) => own(t, p, false)?.has(k) ?? false,
    hasMetadata: (k: unknown, t: object, p?: Key) => getMetadata(k, t, p) !== undefined,
    metadata: (k: unknown, v: unknown) => (t: object, p?: Key) => void own(t, p, true)!.set(k, v),
  });
}
export {};
