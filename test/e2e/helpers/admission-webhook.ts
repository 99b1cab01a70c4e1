// The admission webhook the AdmissionWebhook mirrors call, in a process of its own: the suite's
// kubectl runs synchronously and would starve a server in the test's own event loop. It answers
// as upstream's sample webhook does for configmaps (/configmaps denies the unwanted key and value,
// /mutating-configmaps adds mutation-stage-1, then -2; /always-allow-delay-5s admits after 5 s, /always-deny and /add-label act on anything) on 127.0.0.1, which the lab's API server reaches
// from the root namespace, and prints {"port","caBundle"} on its first line. /crdconvert is the
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
});
announceAndServe({ port: server.port, caBundle: server.caBundle }, () => server.close());
