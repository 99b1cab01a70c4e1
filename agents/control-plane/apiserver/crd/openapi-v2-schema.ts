// A custom resource's schema as upstream publishes it in OpenAPI v2 (apiextensions' openapi
// builder with ToStructuralOpenAPIV2): kubectl's client-side validation reads v2 and would refuse
// fields that a schema keeps (x-kubernetes-preserve-unknown-fields) or that may be null, so those
// nodes lose their properties, items and type; the junctors (allOf, anyOf, oneOf, not) v2 cannot
// say are dropped. A kind that keeps unknown fields at its root is published as just an object.
import type { JSONSchemaProps } from './types.ts';

/** true when upstream's v2 builder publishes the kind as `type: object` alone (no schema, or one keeping unknown fields) */
export const bareInV2 = (s: JSONSchemaProps | undefined): boolean => !s || s['x-kubernetes-preserve-unknown-fields'] === true;

/** The v2 form of a structural schema node (pure; the input is not changed). */
export function toOpenAPIv2(s: JSONSchemaProps): JSONSchemaProps {
  const { allOf: _allOf, anyOf: _anyOf, oneOf: _oneOf, not: _not, ...out } = s;
  if (out.properties) out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, p]) => [k, toOpenAPIv2(p)]));
  if (out.items) out.items = toOpenAPIv2(out.items);
  if (typeof out.additionalProperties === 'object') {
    const { nullable: _n, ...values } = toOpenAPIv2(out.additionalProperties);
    out.additionalProperties = values;
  }
  // a property that may be null cannot be required in v2
  const nullable = Object.entries(s.properties ?? {})
    .filter(([, p]) => p.nullable === true)
    .map(([k]) => k);
  if (out.required && nullable.length) {
    out.required = out.required.filter((k) => !nullable.includes(k));
    if (!out.required.length) delete out.required;
  }
  if (out.nullable) {
    delete out.type;
    delete out.nullable;
    delete out.items;
    delete out.properties;
  }
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.items;
    delete out.properties;
  }
  // kubectl cannot read an array without an item schema
  if (out.type === 'array' && !out.items) delete out.type;
  return out;
}
