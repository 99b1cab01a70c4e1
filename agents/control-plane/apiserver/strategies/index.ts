// Resource plural -> strategy. Types without an entry get the generic behaviour.
import type { ResourceInfo } from '../registry.ts';
import { daemonSetStrategy, deploymentStrategy, replicaSetStrategy, statefulSetStrategy } from './apps.ts';
import { cronJobStrategy, jobStrategy } from './batch.ts';
import { hpaStrategy, hpaV1Strategy } from './autoscaling.ts';
import { crdStrategy } from './crd.ts';
import { apiServiceStrategy } from './apiregistration.ts';
import { mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy } from './admissionregistration.ts';
import { validatingAdmissionPolicyBindingStrategy, validatingAdmissionPolicyStrategy } from './admission-policy.ts';
import { podTemplateStrategy, replicationControllerStrategy, resourceQuotaStrategy } from './core-workloads.ts';
import { configMapStrategy, endpointSliceStrategy, endpointsStrategy, leaseStrategy, secretStrategy, serviceAccountStrategy } from './misc.ts';
import { eventStrategy, eventsV1Strategy } from './events.ts';
import { ingressClassStrategy, ingressStrategy } from './ingress.ts';
import { networkPolicyStrategy } from './networking.ts';
import { namespaceStrategy, nodeStrategy } from './node.ts';
import { podStrategy } from './pod.ts';
import { podDisruptionBudgetStrategy } from './policy.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from './rbac.ts';
import { serviceStrategy } from './service.ts';
import {
  csiDriverStrategy,
  csiNodeStrategy,
  csiStorageCapacityStrategy,
  storageClassStrategy,
  volumeAttachmentStrategy,
  volumeAttributesClassStrategy,
} from './storage.ts';
import { persistentVolumeClaimStrategy, persistentVolumeStrategy } from './volumes.ts';
import type { Strategy } from './types.ts';

const STRATEGIES: Record<string, Strategy> = {
  '/pods': podStrategy,
  '/nodes': nodeStrategy,
  '/namespaces': namespaceStrategy,
  '/services': serviceStrategy,
  '/configmaps': configMapStrategy,
  '/secrets': secretStrategy,
  '/serviceaccounts': serviceAccountStrategy,
  '/events': eventStrategy,
  'events.k8s.io/events': eventsV1Strategy,
  '/endpoints': endpointsStrategy,
  '/replicationcontrollers': replicationControllerStrategy,
  '/podtemplates': podTemplateStrategy,
  '/resourcequotas': resourceQuotaStrategy,
  '/persistentvolumes': persistentVolumeStrategy,
  '/persistentvolumeclaims': persistentVolumeClaimStrategy,
  'coordination.k8s.io/leases': leaseStrategy,
  'discovery.k8s.io/endpointslices': endpointSliceStrategy,
  'networking.k8s.io/networkpolicies': networkPolicyStrategy,
  'policy/poddisruptionbudgets': podDisruptionBudgetStrategy,
  'networking.k8s.io/ingresses': ingressStrategy,
  'networking.k8s.io/ingressclasses': ingressClassStrategy,
  'apps/deployments': deploymentStrategy,
  'apps/replicasets': replicaSetStrategy,
  'apps/daemonsets': daemonSetStrategy,
  'apps/statefulsets': statefulSetStrategy,
  'apiextensions.k8s.io/customresourcedefinitions': crdStrategy,
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': mutatingWebhookConfigurationStrategy,
  'admissionregistration.k8s.io/validatingwebhookconfigurations': validatingWebhookConfigurationStrategy,
  'admissionregistration.k8s.io/validatingadmissionpolicies': validatingAdmissionPolicyStrategy,
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': validatingAdmissionPolicyBindingStrategy,
  'apiregistration.k8s.io/apiservices': apiServiceStrategy,
  'batch/jobs': jobStrategy,
  'batch/cronjobs': cronJobStrategy,
  'autoscaling/horizontalpodautoscalers': hpaStrategy,
  'rbac.authorization.k8s.io/roles': roleStrategy,
  'rbac.authorization.k8s.io/clusterroles': clusterRoleStrategy,
  'rbac.authorization.k8s.io/rolebindings': roleBindingStrategy,
  'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingStrategy,
  'storage.k8s.io/storageclasses': storageClassStrategy,
  'storage.k8s.io/csidrivers': csiDriverStrategy,
  'storage.k8s.io/csinodes': csiNodeStrategy,
  'storage.k8s.io/volumeattachments': volumeAttachmentStrategy,
  'storage.k8s.io/csistoragecapacities': csiStorageCapacityStrategy,
  'storage.k8s.io/volumeattributesclasses': volumeAttributesClassStrategy,
};

export function strategyFor(r: ResourceInfo): Strategy {
  if (r.group === 'autoscaling' && r.version === 'v1') return hpaV1Strategy;
  return r.strategy ?? STRATEGIES[`${r.group}/${r.plural}`] ?? {};
}
