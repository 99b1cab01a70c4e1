// [sig-network] Services on the data path: pod to ClusterIP (by IP and by name), NodePort from a
// pod and from outside the nodes, a Service with no endpoints refusing at once, and ClientIP
// session affinity. All of these go through kube-proxy's rules on the nodes; each test first waits
// for the Service's endpoints, so a failure names the missing piece (endpoints controller or
// kube-proxy) rather than timing out silently.
import { conformance, internalIP, readyNodes, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { pod, service, sleeper } from '../conformance/manifests.ts';
import { clusterIPOf, fromHost, hostnamesFrom, reachable, waitServiceEndpoints } from '../conformance/net.ts';

const it = conformance('net-svc', { timeoutMs: 240_000 });

/** n servers labelled `labels` plus one client pod; returns once all are Ready. */
async function serversAndClient(c: Ctx, labels: Record<string, string>, n: number, prefix: string): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  c.k.create(...names.map((x) => pod(x, c.env.image, { labels })), sleeper('execpod', c.env.image));
  await waitReady(c.k, [...names, 'execpod']);
  return names;
}

/** ClientIP affinity: every answer is the same live backend. */
function sticky(answers: string[], backends: string[]): string | undefined {
  const distinct = [...new Set(answers)];
  return distinct.length === 1 && backends.includes(distinct[0]) ? distinct[0] : undefined;
}

async function checkAffinity(c: Ctx, url: string, backends: string[], want: boolean, tries = 15): Promise<string[]> {
  // the first answers may come before the rules are in place: wait for the Service to answer at all
  await reachable(c.k, 'execpod', url);
  const answers = hostnamesFrom(c.k, 'execpod', url, tries);
  const failed = answers.filter((a) => !backends.includes(a)).length;
  if (failed) throw new Error(`${failed} of ${tries} requests to ${url} got no backend's hostname: ${JSON.stringify(answers)}`);
  const s = sticky(answers, backends);
  if (want && !s)
    throw new Error(
      `sessionAffinity ClientIP: ${tries} requests to ${url} reached ${new Set(answers).size} backends (${[...new Set(answers)].join(', ')}), wanted one`,
    );
  if (!want && s) throw new Error(`sessionAffinity None: all ${tries} requests to ${url} reached ${s} only`);
  return answers;
}

it('[sig-network] Services should be able to change the type from ExternalName to ClusterIP [Conformance]', async (t, c) => {
  c.k.create(service('externalname-service', { type: 'ExternalName', externalName: 'foo.example.com' }));
  t.falsy(c.k.json<any>(['get', 'service', 'externalname-service']).spec.clusterIP, 'an ExternalName Service has no ClusterIP');
  const labels = { name: 'externalname-service' };
  const backends = await serversAndClient(c, labels, 2, 'externalname-service');
  const svc = c.k.json<any>(['get', 'service', 'externalname-service']);
  svc.spec = { type: 'ClusterIP', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] };
  c.k.ok(['replace', '-f', '-'], JSON.stringify(svc));
  const ip = clusterIPOf(c, 'externalname-service');
  t.regex(ip, /^\d+\.\d+\.\d+\.\d+$/, 'a ClusterIP was allocated');
  await waitServiceEndpoints(c.k, 'externalname-service', 2);
  t.true(backends.includes(await reachable(c.k, 'execpod', `http://${ip}:80/`)), 'pod to ClusterIP');
  t.true(backends.includes(await reachable(c.k, 'execpod', 'http://externalname-service:80/')), 'pod to the Service by name');
});

it('[sig-network] Services should be able to change the type from ClusterIP to ExternalName [Conformance]', async (t, c) => {
  c.k.create(service('clusterip-service'), service('target', { type: 'ClusterIP' }), sleeper('execpod', c.env.image));
  const targetIP = clusterIPOf(c, 'target');
  await waitReady(c.k, ['execpod']);
  const svc = c.k.json<any>(['get', 'service', 'clusterip-service']);
  svc.spec = { type: 'ExternalName', externalName: `target.${c.ns}.svc.cluster.local` };
  c.k.ok(['replace', '-f', '-'], JSON.stringify(svc));
  const after = c.k.json<any>(['get', 'service', 'clusterip-service']);
  t.falsy(after.spec.clusterIP, 'the ClusterIP is released');
  // the name now resolves through the CNAME to the target Service's address
  const out = await until(
    `clusterip-service.${c.ns} to resolve through its CNAME`,
    () => {
      const r = c.k.exec('execpod', ['nslookup', `clusterip-service.${c.ns}.svc.cluster.local`]);
      return r.code === 0 && r.stdout.includes(targetIP) && r.stdout;
    },
    30_000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}; cluster DNS is at a ClusterIP, so kube-proxy is on this path too`);
  });
  t.regex(out, /canonical name|target\./);
});

it('[sig-network] Services should be able to create a functioning NodePort service [Conformance]', async (t, c) => {
  const labels = { name: 'nodeport-test' };
  c.k.create(service('nodeport-test', { type: 'NodePort', selector: labels }));
  const svc = c.k.json<any>(['get', 'service', 'nodeport-test']);
  const nodePort = svc.spec.ports[0].nodePort as number;
  t.true(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort} from the default range`);
  const backends = await serversAndClient(c, labels, 2, 'nodeport-test');
  await waitServiceEndpoints(c.k, 'nodeport-test', 2);
  t.true(backends.includes(await reachable(c.k, 'execpod', 'http://nodeport-test:80/')), 'by name');
  t.true(backends.includes(await reachable(c.k, 'execpod', `http://${svc.spec.clusterIP}:80/`)), 'by ClusterIP');
  for (const n of readyNodes(c.kc)) {
    const url = `http://${internalIP(n)}:${nodePort}/`;
    t.true(backends.includes(await reachable(c.k, 'execpod', url)), `from a pod to ${n.metadata.name}'s ${url}`);
    // outside the nodes: the lab's host sits on the nodes' bridge, outside every node namespace
    if (c.env.labDir) t.true(backends.includes(await fromHost(url)), `from outside the nodes to ${url}`);
  }
});

it('[sig-network] Services should be rejected when no endpoints exist', async (t, c) => {
  c.k.create(service('no-pods', { selector: { nopods: 'nopods' } }), sleeper('execpod', c.env.image));
  await waitReady(c.k, ['execpod']);
  const ip = clusterIPOf(c, 'no-pods');
  const t0 = Date.now();
  const r = c.k.exec('execpod', ['sh', '-c', `timeout 10 wget -q -O- http://${ip}:80/ 2>&1; echo exit=$?`]);
  const ms = Date.now() - t0;
  const said = r.stdout.trim().replace(/\s*\n\s*/g, '; ');
  t.log(`wget to ${ip}:80 with no endpoints: ${said} (${ms} ms)`);
  // kube-proxy REJECTs Services with no endpoints: the client sees "refused" at once, not a timeout
  if (!/refused/i.test(said))
    throw new Error(
      `expected "Connection refused" from ${ip}:80 (a Service with no endpoints), got "${said}" after ${ms} ms; kube-proxy installs that REJECT rule: is it running on the nodes?`,
    );
  t.true(ms < 8000, `refused within ${ms} ms`);
});

it('[sig-network] Services should have session affinity work for service with type clusterIP [LinuxOnly] [Conformance]', async (t, c) => {
  const labels = { name: 'affinity-clusterip' };
  c.k.create(service('affinity-clusterip', { selector: labels, sessionAffinity: 'ClientIP' }));
  const backends = await serversAndClient(c, labels, 3, 'affinity-clusterip');
  await waitServiceEndpoints(c.k, 'affinity-clusterip', 3);
  const answers = await checkAffinity(c, `http://${clusterIPOf(c, 'affinity-clusterip')}:80/`, backends, true);
  t.log(`all 15 requests reached ${answers[0]}`);
  t.true(backends.includes(await reachable(c.k, 'execpod', 'http://affinity-clusterip:80/')), 'by name too');
});

it('[sig-network] Services should be able to switch session affinity for service with type clusterIP [LinuxOnly] [Conformance]', async (t, c) => {
  const labels = { name: 'affinity-clusterip-transition' };
  c.k.create(service('affinity-clusterip-transition', { selector: labels, sessionAffinity: 'ClientIP' }));
  const backends = await serversAndClient(c, labels, 3, 'affinity-clusterip-transition');
  await waitServiceEndpoints(c.k, 'affinity-clusterip-transition', 3);
  const url = `http://${clusterIPOf(c, 'affinity-clusterip-transition')}:80/`;
  await checkAffinity(c, url, backends, true);
  c.k.ok(['patch', 'service', 'affinity-clusterip-transition', '-p', '{"spec":{"sessionAffinity":"None"}}']);
  await until('requests to spread over backends after sessionAffinity None', () => checkAffinity(c, url, backends, false).then(() => true), 30_000, 1000);
  c.k.ok(['patch', 'service', 'affinity-clusterip-transition', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
  await until(
    'requests to stick to one backend again after sessionAffinity ClientIP',
    () => checkAffinity(c, url, backends, true).then(() => true),
    30_000,
    1000,
  );
  t.pass();
});

it('[sig-network] Services should have session affinity work for NodePort service [LinuxOnly] [Conformance]', async (t, c) => {
  const labels = { name: 'affinity-nodeport' };
  c.k.create(service('affinity-nodeport', { type: 'NodePort', selector: labels, sessionAffinity: 'ClientIP' }));
  const backends = await serversAndClient(c, labels, 3, 'affinity-nodeport');
  await waitServiceEndpoints(c.k, 'affinity-nodeport', 3);
  const nodePort = c.k.json<any>(['get', 'service', 'affinity-nodeport']).spec.ports[0].nodePort;
  const node = readyNodes(c.kc)[0];
  await checkAffinity(c, `http://${internalIP(node)}:${nodePort}/`, backends, true);
  t.pass();
});
