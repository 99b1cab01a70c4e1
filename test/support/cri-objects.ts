// CRI objects as the runtime lists them, for tests of the kubelet's server.
import type { Container__Output as Container } from '../../agents/kubelet/cri/api-types.ts';

/** A container of sandbox "s" named app, at a restart attempt, in a state, created at a time. */
export const ctr = (id: string, attempt: number, state: Container['state'], createdAt = attempt): Container => ({
  id,
  podSandboxId: 's',
  metadata: { name: 'app', attempt },
  image: null,
  imageRef: '',
  state,
  createdAt,
  labels: {},
  annotations: {},
  imageId: '',
});
