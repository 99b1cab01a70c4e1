// The JSON form of the @kubernetes/client-node models. Their time fields are typed Date (the
// library's ObjectSerializer turns RFC 3339 text into Date objects), but hawser's clients send and
// receive plain JSON without it: on the wire, and in what an informer hands back, a metav1.Time is
// second-precision RFC 3339 text ("2026-12-07T13:00:00Z") or null when unset, as Go marshals it.
// Building the models with Date objects would put milliseconds on the wire (JSON.stringify uses
// toISOString) where upstream sends seconds, and would never equal the text read back; so objects
// hawser writes are typed Wire<V1...>: the same model with its time fields as that text.
export type Wire<T> = T extends Date ? string | null : T extends (infer U)[] ? Wire<U>[] : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/** A metav1.Time as Go writes it: RFC 3339 in UTC, whole seconds. */
export const metaTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A model-typed time field as wire text, whichever form it holds at run time (read objects hold text). */
export const wireTime = (t: Date | string | null): string | null => (t instanceof Date ? metaTime(t) : t);
