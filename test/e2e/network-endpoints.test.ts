// [sig-network] Services as API objects and their endpoints: what the endpoints controllers
// derive from Services and pods (Endpoints and EndpointSlices, following pod readiness), the
// `kubernetes` Service of the API server, and Service/Endpoints/EndpointSlice API operations.
// None of these needs kube-proxy.
import { conformance, sleep, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { pod, service, type PodOpts } from '../conformance/manifests.ts';
import { endpointsByPod, expectEndpoints as expectEp, sameByPod as same, serviceSlices, slicesByPod } from '../conformance/net.ts';

const it = conformance('net-ep');

/**
 * Upstream's shape for both endpoint tests: with the Service in place, add pod1 then pod2, remove
 * pod1 then pod2, and after each step both Endpoints and EndpointSlices list exactly the live pods.
 */
async function followPods(c: Ctx, svc: string, labels: Record<string, string>, pods: { name: string; opts: PodOpts; ports: string[] }[]): Promise<void> {
  await expectEp(c.k, svc, {});
  const want: Record<string, string[]> = {};
  for (const p of pods) {
    c.k.create(pod(p.name, c.env.image, { ...p.opts, labels }));
    await waitReady(c.k, [p.name]);
    want[p.name] = p.ports;
    await expectEp(c.k, svc, want);
  }
  for (const p of pods) {
    c.k.ok(['delete', 'pod', p.name, '--wait=false']);
    delete want[p.name];
    await expectEp(c.k, svc, want);
  }
}

it('[sig-network] Services should serve a basic endpoint from pods [Conformance]', async (t, c) => {
  const labels = { 'name-of-test': 'endpoint-test2' };
  c.k.create(service('endpoint-test2', { selector: labels, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }));
  await followPods(c, 'endpoint-test2', labels, [
    { name: 'pod1', opts: {}, ports: [':8080'] },
    { name: 'pod2', opts: {}, ports: [':8080'] },
  ]);
  t.pass();
});

it('[sig-network] Services should serve multiport endpoints from pods [Conformance]', async (t, c) => {
  const labels = { 'name-of-test': 'multi-endpoint-test' };
  c.k.create(
    service('multi-endpoint-test', {
      selector: labels,
      ports: [
        { name: 'portname1', port: 80, targetPort: 'svc1' },
        { name: 'portname2', port: 81, targetPort: 'svc2' },
      ],
    }),
  );
  // each pod serves 8080 under a different port name: the controller must resolve named targetPorts
  await followPods(c, 'multi-endpoint-test', labels, [
    { name: 'pod1', opts: { ports: [{ name: 'svc1', containerPort: 8080 }] }, ports: ['portname1:8080'] },
    { name: 'pod2', opts: { ports: [{ name: 'svc2', containerPort: 8080 }] }, ports: ['portname2:8080'] },
  ]);
  t.pass();
});

// Upstream checks that publishNotReadyAddresses lists a never-ready pod; this also follows the pod's
// readiness both ways on an ordinary Service: notReadyAddresses / ready=false, then ready, then back.
it('[sig-network] Services should create endpoints for unready pods', async (t, c) => {
  const labels = { app: 'tolerate-unready' };
  c.k.create(
    service('tolerate-unready', { selector: labels, publishNotReadyAddresses: true }),
    service('follows-readiness', { selector: labels }),
    pod('slow-ready', c.env.image, { labels, readyFile: '/tmp/ready' }),
  );
  const running = await until(
    'slow-ready to run (not Ready)',
    () => {
      const p = c.k.get('pod', 'slow-ready');
      return p?.status?.phase === 'Running' && p.status.podIP && p;
    },
    90_000,
  );
  t.falsy(
    (running.status.conditions ?? []).find((x: any) => x.type === 'Ready' && x.status === 'True'),
    'not Ready before the file exists',
  );
  await expectEp(c.k, 'tolerate-unready', { 'slow-ready': ['http:8080'] });
  const notReady = await until(
    'follows-readiness to list slow-ready as not ready',
    () => {
      const nr = endpointsByPod(c.k.get('endpoints', 'follows-readiness'), 'notReadyAddresses');
      return nr['slow-ready'] && same(slicesByPod(serviceSlices(c.k, 'follows-readiness'), false), { 'slow-ready': ['http:8080'] }) && nr;
    },
    30_000,
  );
  t.deepEqual(notReady, { 'slow-ready': ['http:8080'] });
  t.deepEqual(endpointsByPod(c.k.get('endpoints', 'follows-readiness')), {}, 'no ready address while the pod is not Ready');

  c.k.ok(['exec', 'slow-ready', '--', 'touch', '/tmp/ready']);
  await waitReady(c.k, ['slow-ready'], 30_000);
  await expectEp(c.k, 'follows-readiness', { 'slow-ready': ['http:8080'] });

  c.k.ok(['exec', 'slow-ready', '--', 'rm', '/tmp/ready']);
  await until(
    'the pod to turn not Ready and leave the ready addresses',
    () => same(endpointsByPod(c.k.get('endpoints', 'follows-readiness')), {}) && same(slicesByPod(serviceSlices(c.k, 'follows-readiness')), {}),
    30_000,
  );
  t.deepEqual(endpointsByPod(c.k.get('endpoints', 'tolerate-unready')), { 'slow-ready': ['http:8080'] }, 'published regardless of readiness');
});

it('[sig-network] API Server should provide secure master service [Conformance]', (t, c) => {
  const svc = c.kc.json<any>(['get', 'service', 'kubernetes', '-n', 'default']);
  t.is(svc.spec.type, 'ClusterIP');
  const https = (svc.spec.ports as any[]).find((p) => p.name === 'https');
  t.truthy(https, 'a port named https');
  t.is(https.port, 443);
  t.is(https.protocol, 'TCP');
});

it('[sig-network] API Server should have Endpoints and EndpointSlices pointing to API Server [Conformance]', (t, c) => {
  const ep = c.kc.json<any>(['get', 'endpoints', 'kubernetes', '-n', 'default']);
  const addrs = (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip));
  const ports = (ep.subsets ?? []).flatMap((s: any) => (s.ports ?? []).map((p: any) => `${p.name}:${p.port}`));
  t.true(addrs.length >= 1, 'at least one API server address');
  t.is(ports.length, 1);
  t.regex(ports[0], /^https:\d+$/);
  const slices = c.kc.json<any>(['get', 'endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes']).items as any[];
  t.true(slices.length >= 1, 'an EndpointSlice for the kubernetes Service');
  const sliceAddrs = slices.flatMap((s) => (s.endpoints ?? []).flatMap((e: any) => e.addresses)).sort();
  t.deepEqual(sliceAddrs, [...addrs].sort(), 'EndpointSlices list the same API server addresses');
  t.is(`https:${slices[0].ports[0].port}`, ports[0]);
});

it('[sig-network] Services should find a service from listing all namespaces [Conformance]', (t, c) => {
  const all = c.kc.json<any>(['get', 'services', '--all-namespaces']).items as any[];
  t.truthy(all.find((s) => s.metadata.name === 'kubernetes' && s.metadata.namespace === 'default'));
});

it('[sig-network] Services should delete a collection of services [Conformance]', (t, c) => {
  const mk = (name: string, labels: Record<string, string>) => service(name, { labels, ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
  c.k.create(mk('e2e-svc-a', { 'e2e-test-service': 'delete' }), mk('e2e-svc-b', { 'e2e-test-service': 'delete' }), mk('e2e-svc-c', {}));
  t.is((c.k.json<any>(['get', 'services']).items as any[]).length, 3);
  c.k.ok(['delete', 'services', '-l', 'e2e-test-service=delete']);
  const left = (c.k.json<any>(['get', 'services']).items as any[]).map((s) => s.metadata.name);
  t.deepEqual(left, ['e2e-svc-c']);
});

it('[sig-network] Services should complete a service status lifecycle [Conformance]', (t, c) => {
  c.k.create(service('test-service', { labels: { 'test-service-static': 'true' } }));
  const st = c.k.json<any>(['get', 'service', 'test-service', '--subresource=status']);
  t.is(st.metadata.name, 'test-service');
  c.k.ok([
    'patch',
    'service',
    'test-service',
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ metadata: { annotations: { patchedstatus: 'true' } }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } }),
  ]);
  let svc = c.k.json<any>(['get', 'service', 'test-service']);
  t.is(svc.status.loadBalancer.ingress[0].ip, '203.0.113.1', 'patched status visible');
  t.is(svc.metadata.annotations?.patchedstatus, 'true');
  svc.status = {
    conditions: [
      {
        type: 'StatusUpdate',
        status: 'True',
        reason: 'E2E',
        message: 'Set from e2e test',
        lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    ],
  };
  c.k.ok(['replace', '--subresource=status', '-f', '-'], JSON.stringify(svc));
  svc = c.k.json<any>(['get', 'service', 'test-service']);
  t.is(svc.status.conditions?.[0]?.type, 'StatusUpdate', 'updated status visible');
  c.k.ok(['patch', 'service', 'test-service', '--type=merge', '-p', JSON.stringify({ metadata: { labels: { 'test-service': 'patched' } } })]);
  t.is(c.k.json<any>(['get', 'service', 'test-service']).metadata.labels['test-service'], 'patched');
  c.k.ok(['delete', 'service', 'test-service']);
  t.is(c.k.get('service', 'test-service'), undefined);
});

it('[sig-network] Endpoints should test the lifecycle of an Endpoint [Conformance]', async (t, c) => {
  const ep = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'testservice', labels: { 'test-endpoint-static': 'true' } },
    subsets: [{ addresses: [{ ip: '10.0.0.24' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }],
  };
  c.k.create(ep);
  t.truthy(c.k.get('endpoints', 'testservice'));
  const listed = c.kc.json<any>(['get', 'endpoints', '-A', '-l', 'test-endpoint-static=true']).items as any[];
  t.true(listed.some((e) => e.metadata.name === 'testservice' && e.metadata.namespace === c.ns));
  c.k.ok(['label', 'endpoints', 'testservice', 'test-service=updated']);
  t.is(c.k.json<any>(['get', 'endpoints', 'testservice']).metadata.labels['test-service'], 'updated');
  c.k.ok([
    'patch',
    'endpoints',
    'testservice',
    '--type=merge',
    '-p',
    JSON.stringify({ subsets: [{ addresses: [{ ip: '10.0.0.25' }], ports: [{ name: 'http-test', port: 8080, protocol: 'TCP' }] }] }),
  ]);
  const patched = c.k.json<any>(['get', 'endpoints', 'testservice']);
  t.is(patched.subsets[0].addresses[0].ip, '10.0.0.25');
  t.is(patched.subsets[0].ports[0].port, 8080);
  c.k.ok(['delete', 'endpoints', '-l', 'test-service=updated']);
  await until('the Endpoints to be gone', () => c.k.get('endpoints', 'testservice') === undefined, 10_000);
  t.pass();
});

it('[sig-network] EndpointSlice should support creating EndpointSlice API operations [Conformance]', async (t, c) => {
  const groups = c.kc.ok(['api-versions']);
  t.regex(groups, /^discovery\.k8s\.io\/v1$/m, 'discovery.k8s.io/v1 is served');
  const slice = (name: string) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, labels: { 'special-label': c.ns } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['1.2.3.4', '5.6.7.8'] }],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  });
  c.k.create(slice('e2e-example-ing1'), slice('e2e-example-ing2'), slice('e2e-example-ing3'));
  const got = c.k.json<any>(['get', 'endpointslice', 'e2e-example-ing1']);
  t.deepEqual(got.endpoints[0].addresses, ['1.2.3.4', '5.6.7.8']);
  t.is((c.k.json<any>(['get', 'endpointslices', '-l', `special-label=${c.ns}`]).items as any[]).length, 3);
  t.true((c.kc.json<any>(['get', 'endpointslices', '-A', '-l', `special-label=${c.ns}`]).items as any[]).length === 3, 'listed across namespaces');
  c.k.ok(['annotate', 'endpointslice', 'e2e-example-ing1', 'patched=true']);
  t.is(c.k.json<any>(['get', 'endpointslice', 'e2e-example-ing1']).metadata.annotations.patched, 'true');
  got.metadata.annotations = { ...(got.metadata.annotations ?? {}), updated: 'true' };
  delete got.metadata.resourceVersion;
  c.k.ok(['replace', '-f', '-'], JSON.stringify(got));
  t.is(c.k.json<any>(['get', 'endpointslice', 'e2e-example-ing1']).metadata.annotations.updated, 'true');
  c.k.ok(['delete', 'endpointslice', 'e2e-example-ing1']);
  t.is(c.k.get('endpointslice', 'e2e-example-ing1'), undefined);
  c.k.ok(['delete', 'endpointslices', '-l', `special-label=${c.ns}`]);
  await sleep(200);
  t.is((c.k.json<any>(['get', 'endpointslices', '-l', `special-label=${c.ns}`]).items as any[]).length, 0, 'deleted as a collection');
});
