// Kubernetes resource quantities ("250m", "64Mi", "1.5", "2e3") as numbers. Pure.
const SUFFIX: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** The quantity's value in base units, or undefined when it is absent or malformed. */
export function parseQuantity(q: unknown): number | undefined {
  if (q === undefined || q === null || q === '') return undefined;
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|([a-zA-Z]*))$/.exec(String(q).trim());
  if (!m) return undefined;
  if (m[2]) return Number(m[1] + m[2]);
  const mult = SUFFIX[m[3] ?? ''];
  return mult === undefined ? undefined : Number(m[1]) * mult;
}

/** CPU in millicores, rounded up as upstream's MilliValue does. */
export const milliCPU = (q: unknown): number | undefined => {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(Math.round(v * 1e9) / 1e6);
};

/** Bytes, rounded up. */
export const bytes = (q: unknown): number | undefined => {
  const v = parseQuantity(q);
  return v === undefined ? undefined : Math.ceil(v);
};
