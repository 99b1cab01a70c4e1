// Pod update validation (apiserver/validation/pod.ts): what counts as a change.
import test from 'ava';
import { validatePodUpdate } from '../../agents/control-plane/apiserver/validation/pod.ts';

test('a pod update that re-sends its tolerations with keys reordered is not a change', (t) => {
  const old = {
    metadata: {},
    spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
  };
  const same = {
    metadata: {},
    spec: { containers: [{ name: 'c', image: 'i' }], tolerations: [{ tolerationSeconds: 300, effect: 'NoExecute', key: 'k', operator: 'Exists' }] },
  };
  t.deepEqual(validatePodUpdate(same, old), []);
  const changed = structuredClone(same);
  changed.spec.tolerations[0].key = 'other';
  t.is(validatePodUpdate(changed, old)[0]?.field, 'spec.tolerations');
});
