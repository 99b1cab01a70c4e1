// Upstream's DefaultIngressClass admission plugin: a new Ingress that names no class (neither
// spec.ingressClassName nor the legacy kubernetes.io/ingress.class annotation) gets the class
// annotated ingressclass.kubernetes.io/is-default-class: "true"; with several, the most recently
// created one, and on a tie the lowest name (as upstream since v1.28). Only creates are touched.
import { getOwn } from './safe-keys.ts';
import { DEFAULT_CLASS_ANNOTATION, LEGACY_CLASS_ANNOTATION } from './strategies/ingress.ts';

export interface ClassMeta {
  metadata: { name?: string; creationTimestamp?: string; annotations?: Record<string, string> };
}

/** The default class among `classes`, or undefined (pure). */
export function defaultIngressClass(classes: ClassMeta[]): string | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  defaults.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return tb - ta;
    return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
  });
  return defaults[0]?.metadata.name;
}

interface IngressLike {
  metadata?: { annotations?: Record<string, string> };
  spec?: { ingressClassName?: string };
}

/** Sets spec.ingressClassName on an Ingress create that names no class (mutates `ing`). */
export async function admitIngressClass(
  a: { verb: string; apiGroup: string; resource: string; subresource: string },
  ing: IngressLike,
  listClasses: () => Promise<ClassMeta[]>,
): Promise<void> {
  if (a.verb !== 'create' || a.apiGroup !== 'networking.k8s.io' || a.resource !== 'ingresses' || a.subresource) return;
  if (!ing.spec || typeof ing.spec !== 'object' || ing.spec.ingressClassName !== undefined) return;
  const annotations = ing.metadata?.annotations;
  if (annotations && typeof annotations === 'object' && getOwn(annotations, LEGACY_CLASS_ANNOTATION) !== undefined) return;
  const name = defaultIngressClass(await listClasses());
  if (name) ing.spec.ingressClassName = name;
}
