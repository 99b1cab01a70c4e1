// metav1.LabelSelector validation as upstream's unversioned ValidateLabelSelector: label keys and
// values of matchLabels, each matchExpression's operator, key and values, with upstream's paths
// and messages (a NetworkPolicy's podSelector and namespaceSelector are checked with it).
import type { LabelSelectorObject } from '../selectors.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from './field.ts';
import { validateLabels } from './meta.ts';
import { labelValue, qualifiedName } from './names.ts';

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function validateLabelSelector(sel: LabelSelectorObject | undefined, path: string): FieldError[] {
  if (!sel) return [];
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (!values.length) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else errs.push(notSupported(`${p}.operator`, e.operator, OPERATORS));
    for (const m of qualifiedName(e.key ?? '')) errs.push(invalid(`${p}.key`, e.key, m));
    values.forEach((v, j) => {
      for (const m of labelValue(String(v))) errs.push(invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}
