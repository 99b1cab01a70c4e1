// admissionregistration.k8s.io/v1 webhook configurations, as the dispatcher reads them after
// defaulting (the strategy fills failurePolicy, matchPolicy, selectors, timeoutSeconds ...).
import type { LabelSelectorObject } from '../selectors.ts';
import type { Meta } from '../validation/meta.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface RuleWithOperations {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface ServiceReference {
  namespace?: string;
  name?: string;
  path?: string;
  port?: number;
}

export interface ClientConfig {
  url?: string;
  service?: ServiceReference;
  /** base64 of PEM certificates */
  caBundle?: string;
}

export interface Webhook {
  name: string;
  clientConfig?: ClientConfig;
  rules?: RuleWithOperations[];
  failurePolicy?: string;
  matchPolicy?: string;
  namespaceSelector?: LabelSelectorObject;
  objectSelector?: LabelSelectorObject;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  /** mutating webhooks only */
  reinvocationPolicy?: string;
  matchConditions?: { name?: string; expression?: string }[];
}

export interface WebhookConfiguration {
  apiVersion?: string;
  kind?: string;
  metadata: Meta;
  webhooks?: Webhook[];
}
