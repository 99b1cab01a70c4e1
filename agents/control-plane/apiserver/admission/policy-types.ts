// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and its binding, as the strategy and
// the evaluator read them after defaulting (JSON names).
import type { LabelSelectorObject } from '../selectors.ts';
import type { Meta } from '../validation/meta.ts';
import type { RuleWithOperations } from './types.ts';

export interface NamedRule extends RuleWithOperations {
  resourceNames?: string[];
}

export interface MatchResources {
  namespaceSelector?: LabelSelectorObject;
  objectSelector?: LabelSelectorObject;
  resourceRules?: NamedRule[];
  excludeResourceRules?: NamedRule[];
  matchPolicy?: string;
}

export interface Validation {
  expression?: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
}

export interface ValidatingAdmissionPolicy {
  metadata: Meta;
  spec?: {
    paramKind?: { apiVersion?: string; kind?: string };
    matchConstraints?: MatchResources;
    validations?: Validation[];
    failurePolicy?: string;
    matchConditions?: { name?: string; expression?: string }[];
    variables?: { name?: string; expression?: string }[];
    auditAnnotations?: { key?: string; valueExpression?: string }[];
  };
}

export interface ValidatingAdmissionPolicyBinding {
  metadata: Meta;
  spec?: {
    policyName?: string;
    paramRef?: { name?: string; namespace?: string; selector?: LabelSelectorObject; parameterNotFoundAction?: string };
    matchResources?: MatchResources;
    validationActions?: string[];
  };
}
