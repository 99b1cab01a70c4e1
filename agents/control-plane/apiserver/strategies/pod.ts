// Pods: defaulting, admission defaults, validation, graceful deletion, printing, field selectors.
import { POD_TABLE } from '../tables/pods.ts';
import { validatePodSpec, validatePodUpdate } from '../validation/pod.ts';
import { validateEphemeralUpdate, validateNoEphemeralOnCreate } from '../validation/ephemeral.ts';
import { admitPod, defaultPodSpec, qosClass } from '../../../api/pod-defaults.ts';
import type { Obj, Strategy } from './types.ts';

export const podStrategy: Strategy = {
  returnDeletedObject: true,
  defaults(pod) {
    pod.spec ??= {};
    defaultPodSpec(pod.spec);
  },
  prepareForCreate(pod) {
    admitPod(pod.spec);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod.spec) };
  },
  prepareForUpdate(next, old) {
    // qosClass is fixed at creation; kubelets never send it back wrong
    if (old.status?.qosClass && next.status) next.status.qosClass ??= old.status.qosClass;
  },
  validate: (pod) => validatePodSpec(pod.spec),
  validateCreate: (pod) => validateNoEphemeralOnCreate(pod.spec),
  validateUpdate: (next, old, sub) => (sub === 'ephemeralcontainers' ? validateEphemeralUpdate(next, old) : validatePodUpdate(next, old)),
  selectableFields(pod: Obj) {
    return {
      'spec.nodeName': pod.spec?.nodeName ?? '',
      'spec.restartPolicy': pod.spec?.restartPolicy ?? '',
      'spec.schedulerName': pod.spec?.schedulerName ?? '',
      'spec.serviceAccountName': pod.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(pod.spec?.hostNetwork ?? false),
      'status.phase': pod.status?.phase ?? '',
      'status.podIP': pod.status?.podIP ?? '',
      'status.nominatedNodeName': pod.status?.nominatedNodeName ?? '',
    };
  },
  gracePeriod(pod, requested) {
    let period = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    // never started anywhere, or already finished: nothing to wait for
    if (!pod.spec?.nodeName) period = 0;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') period = 0;
    return period < 0 ? 1 : period;
  },
  table: POD_TABLE,
};
