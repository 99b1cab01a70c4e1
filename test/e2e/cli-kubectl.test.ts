// [sig-cli] upstream's kubectl conformance tests (test/e2e/kubectl), driven by the real kubectl
// v1.35 against the cluster: discovery, cluster-info, version, run/label/replace/patch/diff/expose/
// describe, server-side dry-run, proxy. Upstream writes several around ReplicationControllers;
// those use RCs here too, so they pass only where the cluster serves and runs them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformance, readyNodes, until, waitReady, type Ctx } from '../conformance/fixture.ts';
import { deployment, replicationController, service, sleeper } from '../conformance/manifests.ts';
import { httpGet, startKubectl } from '../conformance/background.ts';
import { endpointsByPod } from '../conformance/net.ts';

const it = conformance('kubectl');

/** Upstream's checkOutput: each requirement's first word starts a line (in order) holding the rest. */
function checkOutput(output: string, required: string[][]): void {
  const lines = output.split('\n');
  let at = 0;
  for (const req of required) {
    while (at < lines.length && !lines[at].includes(req[0])) at++;
    if (at === lines.length) throw new Error(`"${req[0]}" not found (in order) in:\n${output}`);
    for (const item of req.slice(1)) if (!lines[at].includes(item)) throw new Error(`"${item}" not on the line "${lines[at]}"`);
  }
}

/** The RC's pods once `n` of them are Running. */
async function rcPods(c: Ctx, selector: string, n: number): Promise<any[]> {
  return until(
    `${n} running pods for ${selector}`,
    () => {
      const pods = (c.k.json<any>(['get', 'pods', '-l', selector]).items as any[]).filter((p) => !p.metadata.deletionTimestamp);
      return pods.length === n && pods.every((p) => p.status?.phase === 'Running') && pods;
    },
    90_000,
  );
}

it('[sig-cli] Kubectl client Kubectl api-versions should check if v1 is in available api versions [Conformance]', (t, c) => {
  t.regex(c.k.ok(['api-versions']), /^v1$/m);
});

it('[sig-cli] Kubectl client Kubectl cluster-info should check if Kubernetes control plane services is included in cluster-info [Conformance]', (t, c) => {
  const out = c.k.ok(['cluster-info']);
  t.regex(out, /Kubernetes control plane/);
  t.regex(out, /is running at/);
});

it('[sig-cli] Kubectl client Kubectl version should check is all data is printed [Conformance]', (t, c) => {
  const out = c.k.ok(['version']);
  for (const item of ['Client Version:', 'Server Version:']) t.true(out.includes(item), `${item} in ${out}`);
  const v = JSON.parse(c.k.ok(['version', '-o', 'json']));
  for (const side of ['clientVersion', 'serverVersion']) {
    t.regex(v[side].major, /^\d+$/, `${side}.major is an integer`);
    t.regex(v[side].minor, /^\d+\+?$/, `${side}.minor is an integer`);
    t.truthy(v[side].gitCommit, `${side}.gitCommit`);
    t.truthy(v[side].gitVersion, `${side}.gitVersion`);
  }
});

it('[sig-cli] Kubectl client Kubectl label should update the label on a resource [Conformance]', async (t, c) => {
  c.k.create(sleeper('pause', c.env.image, { labels: { name: 'pause' } }));
  await waitReady(c.k, ['pause']);
  c.k.ok(['label', 'pods', 'pause', 'testing-label=testing-label-value']);
  t.regex(c.k.ok(['get', 'pod', 'pause', '-L', 'testing-label']), /testing-label-value/);
  t.is((c.k.json<any>(['get', 'pods', '-l', 'testing-label=testing-label-value']).items as any[]).length, 1);
  c.k.ok(['label', 'pods', 'pause', 'testing-label-']);
  t.notRegex(c.k.ok(['get', 'pod', 'pause', '-L', 'testing-label']), /testing-label-value/);
});

it('[sig-cli] Kubectl client Kubectl run pod should create a pod from an image when restart is Never [Conformance]', (t, c) => {
  c.k.ok(['run', 'e2e-test-httpd-pod', '--restart=Never', '--pod-running-timeout=2m', `--image=${c.env.image}`]);
  const p = c.k.json<any>(['get', 'pod', 'e2e-test-httpd-pod']);
  t.is(p.spec.containers.length, 1);
  t.is(p.spec.containers[0].image, c.env.image);
  t.is(p.spec.restartPolicy, 'Never');
});

it("[sig-cli] Kubectl client Kubectl replace should update a single-container pod's image [Conformance]", async (t, c) => {
  c.k.ok(['run', 'e2e-test-httpd-pod', `--image=${c.env.image}`, '--labels=run=e2e-test-httpd-pod']);
  await waitReady(c.k, ['e2e-test-httpd-pod']);
  const json = c.k.ok(['get', 'pod', 'e2e-test-httpd-pod', '-o', 'json']);
  c.k.ok(['replace', '-f', '-'], json.replace(`"image": "${c.env.image}"`, `"image": "${c.env.altImage}"`));
  t.is(c.k.json<any>(['get', 'pod', 'e2e-test-httpd-pod']).spec.containers[0].image, c.env.altImage);
});

it('[sig-cli] Kubectl client Kubectl server-side dry-run should check if kubectl can dry-run update Pods [Conformance]', async (t, c) => {
  c.k.ok(['run', 'e2e-test-httpd-pod', `--image=${c.env.image}`, '--labels=run=e2e-test-httpd-pod']);
  const patch = JSON.stringify({ spec: { containers: [{ name: 'e2e-test-httpd-pod', image: c.env.altImage }] } });
  const out = c.k.ok(['patch', 'pod', 'e2e-test-httpd-pod', '-p', patch, '--dry-run=server', '-o', 'json']);
  t.is(JSON.parse(out).spec.containers[0].image, c.env.altImage, 'the dry-run answer carries the change');
  t.is(c.k.json<any>(['get', 'pod', 'e2e-test-httpd-pod']).spec.containers[0].image, c.env.image, 'the stored pod does not');
});

it('[sig-cli] Kubectl client Kubectl diff should check if kubectl diff finds a difference for Deployments [Conformance]', (t, c) => {
  const httpd = (image: string) => JSON.stringify(deployment('httpd-deployment', image, 1, { app: 'httpd' }));
  c.k.ok(['create', '-f', '-'], httpd(c.env.image));
  const r = c.k.run(['diff', '-f', '-'], httpd(c.env.altImage));
  t.is(r.code, 1, `kubectl diff exits 1 when it finds a difference (stderr: ${r.stderr.trim()})`);
  t.true(r.stdout.includes(c.env.image) && r.stdout.includes(c.env.altImage), `both images in the diff:\n${r.stdout}`);
  c.k.ok(['delete', '-f', '-'], httpd(c.env.altImage));
});

it('[sig-cli] Kubectl client Kubectl describe should check if kubectl describe prints relevant information for rc and pods [Conformance]', async (t, c) => {
  const labels = { app: 'agnhost', role: 'primary' };
  c.k.create(
    replicationController('agnhost-primary', c.env.image, 1, labels),
    service('agnhost-primary', { labels, selector: labels, ports: [{ port: 6379, targetPort: 8080 }] }),
  );
  const [p] = await rcPods(c, 'app=agnhost', 1);
  checkOutput(c.k.ok(['describe', 'pod', p.metadata.name]), [
    ['Name:', 'agnhost-primary-'],
    ['Namespace:', c.ns],
    ['Node:'],
    ['Labels:', 'app=agnhost'],
    ['role=primary'],
    ['Annotations:'],
    ['Status:', 'Running'],
    ['IP:'],
    ['Controlled By:', 'ReplicationController/agnhost-primary'],
    ['Image:', c.env.image],
    ['State:', 'Running'],
    ['QoS Class:', 'BestEffort'],
  ]);
  await until(
    'kubectl describe rc to show the running pod',
    () => {
      checkOutput(c.k.ok(['describe', 'rc', 'agnhost-primary']), [
        ['Name:', 'agnhost-primary'],
        ['Namespace:', c.ns],
        ['Selector:', 'app=agnhost,role=primary'],
        ['Labels:', 'app=agnhost'],
        ['role=primary'],
        ['Annotations:'],
        ['Replicas:', '1 current', '1 desired'],
        ['Pods Status:', '1 Running', '0 Waiting', '0 Succeeded', '0 Failed'],
        ['Pod Template:'],
        ['Image:', c.env.image],
        ['Events:'],
      ]);
      return true;
    },
    60_000,
    1000,
  );
  checkOutput(c.k.ok(['describe', 'service', 'agnhost-primary']), [
    ['Name:', 'agnhost-primary'],
    ['Namespace:', c.ns],
    ['Labels:', 'app=agnhost'],
    ['role=primary'],
    ['Annotations:'],
    ['Selector:', 'app=agnhost', 'role=primary'],
    ['Type:', 'ClusterIP'],
    ['IP:'],
    ['Port:', '<unset>', '6379/TCP'],
    ['Endpoints:'],
    ['Session Affinity:', 'None'],
  ]);
  const node = readyNodes(c.kc)[0].metadata.name;
  checkOutput(c.k.ok(['describe', 'node', node]), [
    ['Name:', node],
    ['Labels:'],
    ['Annotations:'],
    ['CreationTimestamp:'],
    ['Conditions:'],
    ['Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message'],
    ['Addresses:'],
    ['Capacity:'],
    ['Version:'],
    ['Kernel Version:'],
    ['OS Image:'],
    ['Container Runtime Version:'],
    ['Kubelet Version:'],
    ['Pods:'],
  ]);
  checkOutput(c.k.ok(['describe', 'namespace', c.ns]), [['Name:', c.ns], ['Labels:'], ['Annotations:'], ['Status:', 'Active']]);
  t.pass();
});

it('[sig-cli] Kubectl client Kubectl expose should create services for rc [Conformance]', async (t, c) => {
  const labels = { app: 'agnhost', role: 'primary' };
  c.k.create(replicationController('agnhost-primary', c.env.image, 1, labels));
  await rcPods(c, 'app=agnhost', 1);
  const validate = async (name: string, port: number) => {
    await until(
      `endpoints of ${name} on 8080`,
      () => {
        const eps = endpointsByPod(c.k.get('endpoints', name));
        return Object.keys(eps).length === 1 && Object.values(eps)[0].every((p) => p.endsWith(':8080'));
      },
      30_000,
    );
    const svc = c.k.json<any>(['get', 'service', name]);
    t.is(svc.spec.ports.length, 1);
    t.is(svc.spec.ports[0].port, port);
    t.is(svc.spec.ports[0].targetPort, 8080);
  };
  c.k.ok(['expose', 'rc', 'agnhost-primary', '--name=rm2', '--port=1234', '--target-port=8080']);
  await validate('rm2', 1234);
  c.k.ok(['expose', 'service', 'rm2', '--name=rm3', '--port=2345', '--target-port=8080']);
  await validate('rm3', 2345);
});

it('[sig-cli] Kubectl client Kubectl patch should add annotations for pods in rc [Conformance]', async (t, c) => {
  c.k.create(replicationController('agnhost-primary', c.env.image, 1, { app: 'agnhost', role: 'primary' }));
  const pods = await rcPods(c, 'app=agnhost', 1);
  for (const p of pods) c.k.ok(['patch', 'pod', p.metadata.name, '-p', '{"metadata":{"annotations":{"x":"y"}}}']);
  for (const p of pods) t.is(c.k.json<any>(['get', 'pod', p.metadata.name]).metadata.annotations?.x, 'y');
});

it('[sig-cli] Kubectl client Update Demo should create and stop a replication controller [Conformance]', async (t, c) => {
  c.k.create(replicationController('update-demo-nautilus', c.env.image, 2, { name: 'update-demo', version: 'nautilus' }));
  const pods = await rcPods(c, 'name=update-demo', 2);
  for (const p of pods) t.is(p.spec.containers[0].image, c.env.image);
  c.k.ok(['delete', 'rc', 'update-demo-nautilus', '--grace-period=0', '--force']);
  await until(
    'the RC and its pods to be gone',
    () =>
      !c.k.get('rc', 'update-demo-nautilus') &&
      (c.k.json<any>(['get', 'pods', '-l', 'name=update-demo']).items as any[]).every((p) => p.metadata.deletionTimestamp),
    60_000,
  );
});

it('[sig-cli] Kubectl client Update Demo should scale a replication controller [Conformance]', async (t, c) => {
  c.k.create(replicationController('update-demo-nautilus', c.env.image, 2, { name: 'update-demo', version: 'nautilus' }));
  await rcPods(c, 'name=update-demo', 2);
  c.k.ok(['scale', 'rc', 'update-demo-nautilus', '--replicas=1', '--timeout=5m']);
  await rcPods(c, 'name=update-demo', 1);
  c.k.ok(['scale', 'rc', 'update-demo-nautilus', '--replicas=2', '--timeout=5m']);
  await rcPods(c, 'name=update-demo', 2);
  t.pass();
});

it('[sig-cli] Kubectl client Proxy server should support proxy with --port 0 [Conformance]', async (t, c) => {
  const proxy = await startKubectl(c.env.kubeconfig, ['proxy', '-p', '0', '--disable-filter'], /Starting to serve on 127\.0\.0\.1:(\d+)/);
  t.teardown(proxy.stop);
  const r = await httpGet({ port: Number(proxy.match[1]), path: '/api/' });
  t.is(r.status, 200);
  t.true((JSON.parse(r.body).versions as string[]).length >= 1, `at least one version in ${r.body}`);
});

it('[sig-cli] Kubectl client Proxy server should support --unix-socket=/path [Conformance]', async (t, c) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-proxy-unix'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'test');
  const proxy = await startKubectl(c.env.kubeconfig, ['proxy', `--unix-socket=${path}`], /Starting to serve on/);
  t.teardown(proxy.stop);
  const r = await httpGet({ socketPath: path, path: '/api' });
  t.is(r.status, 200);
  t.true((JSON.parse(r.body).versions as string[]).length >= 1);
});
