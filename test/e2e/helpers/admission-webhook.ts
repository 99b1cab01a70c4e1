// The admission webhook the AdmissionWebhook mirrors call, in a process of its own: the suite's
// kubectl runs synchronously and would starve a server in the test's own event loop. It answers
// as upstream's sample webhook does for configmaps (/configmaps denies the unwanted key and value,
// /mutating-configmaps adds mutation-stage-1, then -2; /always-allow-delay-5s admits after 5 s, /always-deny and /add-label act on anything) on 127.0.0.1, which the lab's API server reaches
// from the root namespace, and prints {"port","caBundle"} on its first line. /pods, /pods/attach,
// /mutating-pods, /custom-resource, /mutating-custom-resource and /crd answer as agnhost's webhook
// does for the pod, attach, custom resource and CRD mirrors. /crdconvert is the
// CustomResourceConversionWebhook mirrors' conversion webhook (upstream's sample: v1 hostPort <->
// v2 host and port). helpers/webhook-process.ts runs it for a test file.
import { conversionResponse, hostPortConverter, startWebhookServer, jsonPatchResponse } from '../../integration/_webhook-server.ts';
import { announceAndServe } from './child-server.ts';

const server = await startWebhookServer({
  '/configmaps': (r) => {
    const bad = r.request.object?.data?.['webhook-e2e-test'] === 'webhook-disallow';
    return bad ? { allowed: false, status: { code: 403, reason: 'Forbidden', message: 'the configmap contains unwanted key and value' } } : { allowed: true };
  },
  // stage 1 adds mutation-stage-1; a configmap that has it gets mutation-stage-2 (upstream's two stages)
  '/mutating-configmaps': (r) =>
    jsonPatchResponse([{ op: 'add', path: `/data/mutation-stage-${r.request.object?.data?.['mutation-stage-1'] ? 2 : 1}`, value: 'yes' }]),
  '/always-allow-delay-5s': { delayMs: 5000, then: () => ({ allowed: true }) },
  '/always-deny': () => ({ allowed: false, status: { code: 403, reason: 'Forbidden', message: 'this webhook denies all requests' } }),
  '/add-label': () => jsonPatchResponse([{ op: 'add', path: '/metadata/labels', value: { 'added-label': 'yes' } }]),
  '/crdconvert': conversionResponse(hostPortConverter),
  // upstream's agnhost admitPods: unwanted label and container name denied (both named), wait-forever never answered
  '/pods': (r) => {
    const pod = r.request.object ?? {};
    const label = pod.metadata?.labels?.['webhook-e2e-test'];
    if (label === 'wait-forever') return 'hang';
    const msg = [
      ...(label === 'webhook-disallow' ? ['the pod contains unwanted label; '] : []),
      ...((pod.spec?.containers ?? []) as { name?: string }[])
        .filter((c) => c.name?.includes('webhook-disallow'))
        .map(() => 'the pod contains unwanted container name; '),
    ].join('');
    return msg ? { allowed: false, status: { message: msg.trim() } } : { allowed: true };
  },
  // agnhost denySpecificAttachment: `kubectl attach to-be-attached-pod -i -c=container1`
  '/pods/attach': (r) => {
    const o = r.request.object ?? {};
    const deny = r.request.name === 'to-be-attached-pod' && r.request.subResource === 'attach' && o.stdin === true && o.container === 'container1';
    return deny ? { allowed: false, status: { message: "attaching to pod 'to-be-attached-pod' is not allowed" } } : { allowed: true };
  },
  // agnhost mutatePods: an init container with only image, name and resources, for the server to default
  '/mutating-pods': (r) => {
    const pod = r.request.object ?? {};
    const has = ((pod.spec?.initContainers ?? []) as { name?: string }[]).some((c) => c.name === 'webhook-added-init-container');
    if (pod.metadata?.name !== 'webhook-to-be-mutated' || has) return { allowed: true };
    return jsonPatchResponse([
      { op: 'add', path: '/spec/initContainers', value: [{ image: 'webhook-added-image', name: 'webhook-added-init-container', resources: {} }] },
    ]);
  },
  // agnhost admitCustomResource: the denial says why in its reason only, as upstream's
  '/custom-resource': (r) => {
    const del = r.request.operation === 'DELETE';
    const v = (del ? r.request.oldObject : r.request.object)?.data?.['webhook-e2e-test'];
    if (!del && v === 'webhook-disallow') return { allowed: false, status: { reason: 'the custom resource contains unwanted data' } };
    if (del && v === 'webhook-nondeletable')
      return { allowed: false, status: { reason: 'the custom resource cannot be deleted because it contains unwanted key and value' } };
    return { allowed: true };
  },
  // agnhost mutateCustomResource: mutation-start gets stage 1; an object with stage 1 gets stage 2
  '/mutating-custom-resource': (r) => {
    const data = r.request.object?.data ?? {};
    const stage = data['mutation-stage-1'] === 'yes' ? 2 : data['mutation-start'] === 'yes' ? 1 : 0;
    return stage ? jsonPatchResponse([{ op: 'add', path: `/data/mutation-stage-${stage}`, value: 'yes' }]) : { allowed: true };
  },
  // agnhost admitCRD
  '/crd': (r) =>
    r.request.object?.metadata?.labels?.['webhook-e2e-test'] === 'webhook-disallow'
      ? { allowed: false, status: { message: 'the crd contains unwanted label' } }
      : { allowed: true },
});
announceAndServe({ port: server.port, caBundle: server.caBundle }, () => server.close());
