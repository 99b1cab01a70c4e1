// Cluster DNS on a running lab, named after the upstream [sig-network] DNS conformance tests:
// questions are asked from inside a pod (CRI ExecSync into its container, busybox nslookup/ping/
// wget through the pod's own resolv.conf), so kubelet's dnsPolicy, kube-proxy's route to
// 10.96.0.10 and the control plane's DNS server are all on the path.
// Needs HAWSER_E2E_KUBECONFIG (a lab's admin kubeconfig); skipped when it is not set. The nodes'
// CRI sockets are found from the lab layout (<lab>/<node>/containerd.sock beside <lab>/server/),
// or under HAWSER_E2E_LAB_DIR.
import test from 'ava';
import { dirname, join } from 'node:path';
import { CriClient } from '../../agents/kubelet/cri/client.ts';
import { REGISTRY_HOST } from '../../agents/cli/lab/topology.ts';
import { kubectl, kubectlJson, kubectlOk } from '../helpers/kubectl.ts';

const kc = process.env.HAWSER_E2E_KUBECONFIG ?? '';
const labDir = process.env.HAWSER_E2E_LAB_DIR ?? (kc ? dirname(dirname(kc)) : '');
const ns = `dns-e2e-${Math.random().toString(36).slice(2, 7)}`;
const zone = 'cluster.local';
const image = `${REGISTRY_HOST}/testapp:1.0`;
const e2e = kc ? test.serial : test.serial.skip;

interface Target {
  socket: string;
  id: string;
}
const pods: Record<string, Target & { ip: string }> = {};

async function exec(p: Target, cmd: string[], timeoutSec = 20): Promise<{ code: number; out: string }> {
  const c = new CriClient(p.socket, { timeoutMs: 30_000 });
  try {
    const r = await c.execSync(p.id, cmd, timeoutSec);
    return { code: r.exitCode, out: `${r.stdout.toString()}${r.stderr.toString()}` };
  } finally {
    c.close();
  }
}
const sh = (p: Target, script: string, timeoutSec = 20) => exec(p, ['sh', '-c', script], timeoutSec);

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The addresses busybox nslookup prints for a name (after its "Name:" line). */
async function lookup(p: Target, name: string): Promise<string[]> {
  const { out } = await exec(p, ['nslookup', name], 15);
  const answers = out.split(/\n\s*\n/).filter((b) => /Name:/.test(b));
  return answers.flatMap((b) => [...b.matchAll(/Address:\s*(\S+)/g)].map((m) => m[1])).sort();
}

const podYaml = (name: string, extra: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: {app: dns-querier}}
spec:
${extra}  containers:
  - name: c
    image: ${image}
    ports: [{name: http, containerPort: 8080}]
`;

async function runningPod(name: string): Promise<Target & { ip: string }> {
  kubectlOk(kc, ['wait', '-n', ns, '--for=condition=Ready', `pod/${name}`, '--timeout=60s']);
  const pod = kubectlJson(kc, ['get', 'pod', '-n', ns, name]);
  const socket = join(labDir, pod.spec.nodeName, 'containerd.sock');
  const c = new CriClient(socket, { timeoutMs: 30_000 });
  try {
    const cs = await c.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } });
    if (cs.length !== 1) throw new Error(`pod ${name}: ${cs.length} containers`);
    return { socket, id: cs[0].id, ip: pod.status.podIP };
  } finally {
    c.close();
  }
}

const clusterIP = (svc: string): string => kubectlJson(kc, ['get', 'svc', '-n', ns, svc]).spec.clusterIP;

test.before(async () => {
  if (!kc) return;
  kubectlOk(kc, ['create', 'namespace', ns]);
  kubectlOk(
    kc,
    ['apply', '-f', '-'],
    `apiVersion: v1
kind: Service
metadata: {name: dns-test-service, namespace: ${ns}}
spec:
  selector: {app: dns-querier}
  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: dns-test-service-2, namespace: ${ns}}
spec:
  clusterIP: None
  selector: {app: dns-querier}
  ports: [{name: http, port: 8080, protocol: TCP}]
---
${podYaml('dns-querier-1', '  hostname: dns-querier-1\n  subdomain: dns-test-service-2\n')}---
${podYaml(
  'dns-none',
  `  dnsPolicy: None
  dnsConfig:
    nameservers: [1.1.1.1]
    searches: [resolv.conf.local]
    options: [{name: ndots, value: "2"}]
`,
)}`,
  );
  pods.querier = await runningPod('dns-querier-1');
  pods.none = await runningPod('dns-none');
});

test.after.always(() => {
  if (kc) kubectl(kc, ['delete', 'namespace', ns, '--wait=false']);
});

e2e('[sig-network] [hawser] a ClusterFirst pod gets cluster DNS, the namespace search path and ndots:5 in /etc/resolv.conf', async (t) => {
  const { out } = await exec(pods.querier, ['cat', '/etc/resolv.conf']);
  t.regex(out, /^nameserver 10\.96\.0\.10$/m);
  t.regex(out, new RegExp(`^search ${ns}\\.svc\\.${zone} svc\\.${zone} ${zone}( |$)`, 'm'));
  t.regex(out, /^options .*ndots:5/m);
});

e2e('[sig-network] DNS should provide DNS for the cluster [Conformance]', async (t) => {
  t.deepEqual(await lookup(pods.querier, `kubernetes.default.svc.${zone}`), ['10.96.0.1']);
  // the libc resolver of the pod (busybox ping's getaddrinfo), through the search path
  const ping = await sh(pods.querier, 'ping -c1 -W1 kubernetes.default 2>&1 | head -1');
  t.regex(ping.out, /PING kubernetes\.default \(10\.96\.0\.1\)/);
});

e2e('[sig-network] DNS should provide DNS for services [Conformance]', async (t) => {
  const ip = clusterIP('dns-test-service');
  t.deepEqual(await lookup(pods.querier, `dns-test-service.${ns}.svc.${zone}`), [ip]);
  t.deepEqual(await lookup(pods.querier, `dns-test-service-2.${ns}.svc.${zone}`), [pods.querier.ip, pods.none.ip].sort(), 'headless: the pod IPs');
  const srv = await exec(pods.querier, ['nslookup', '-type=srv', `_http._tcp.dns-test-service.${ns}.svc.${zone}`]);
  t.regex(srv.out, new RegExp(`80 dns-test-service\\.${ns}\\.svc\\.${zone}`));
  const ptr = await exec(pods.querier, ['nslookup', ip]);
  t.regex(ptr.out, new RegExp(`name = dns-test-service\\.${ns}\\.svc\\.${zone}`));
  // and the name reaches the Service (kube-proxy) and a pod behind it
  const web = await sh(pods.querier, `wget -q -O- http://dns-test-service.${ns}/`, 20);
  t.regex(web.out, /dns-querier-1|dns-none/);
});

e2e('[sig-network] DNS should resolve DNS of partial qualified names for services [LinuxOnly] [Conformance]', async (t) => {
  const ip = clusterIP('dns-test-service');
  for (const name of ['dns-test-service', `dns-test-service.${ns}`, `dns-test-service.${ns}.svc`]) {
    const ping = await sh(pods.querier, `ping -c1 -W1 ${name} 2>&1 | head -1`);
    t.regex(ping.out, new RegExp(`PING ${name.replace(/\./g, '\\.')} \\(${ip.replace(/\./g, '\\.')}\\)`), name);
  }
});

e2e('[sig-network] DNS should provide DNS for pods for Hostname [Conformance]', async (t) => {
  t.deepEqual(await lookup(pods.querier, `dns-querier-1.dns-test-service-2.${ns}.svc.${zone}`), [pods.querier.ip]);
  t.is((await exec(pods.querier, ['hostname'])).out.trim(), 'dns-querier-1');
  const dashed = pods.querier.ip.replace(/\./g, '-');
  t.deepEqual(await lookup(pods.querier, `${dashed}.${ns}.pod.${zone}`), [pods.querier.ip]);
});

e2e('[sig-network] DNS should provide DNS for pods for Subdomain [Conformance]', async (t) => {
  const srv = await exec(pods.querier, ['nslookup', '-type=srv', `_http._tcp.dns-test-service-2.${ns}.svc.${zone}`]);
  t.regex(srv.out, new RegExp(`8080 dns-querier-1\\.dns-test-service-2\\.${ns}\\.svc\\.${zone}`));
});

e2e('[sig-network] DNS should provide DNS for ExternalName services [Conformance]', async (t) => {
  // the lab has no internet: the external name is another Service's name
  kubectlOk(kc, ['create', 'service', 'externalname', 'dns-test-service-3', '-n', ns, `--external-name=dns-test-service.${ns}.svc.${zone}`]);
  const ip = clusterIP('dns-test-service');
  const out = await until(
    'the CNAME',
    async () => {
      const r = await exec(pods.querier, ['nslookup', '-type=cname', `dns-test-service-3.${ns}.svc.${zone}`]);
      return /canonical name/.test(r.out) && r.out;
    },
    15_000,
  );
  t.regex(out, new RegExp(`canonical name = dns-test-service\\.${ns}\\.svc\\.${zone}`));
  t.deepEqual(await lookup(pods.querier, `dns-test-service-3.${ns}.svc.${zone}`), [ip]);
});

e2e('[sig-network] DNS should support configurable pod DNS nameservers [Conformance]', async (t) => {
  const { out } = await exec(pods.none, ['cat', '/etc/resolv.conf']);
  t.regex(out, /^nameserver 1\.1\.1\.1$/m);
  t.notRegex(out, /10\.96\.0\.10/);
  t.regex(out, /^search resolv\.conf\.local$/m);
  t.regex(out, /^options ndots:2$/m);
});

e2e('[sig-network] [hawser] a deleted Service stops resolving within a few seconds', async (t) => {
  kubectlOk(kc, ['create', 'service', 'clusterip', 'dns-gone', '-n', ns, '--tcp=80:8080']);
  const ip = clusterIP('dns-gone');
  const name = `dns-gone.${ns}.svc.${zone}`;
  await until('the new Service to resolve', async () => (await lookup(pods.querier, name)).includes(ip), 15_000);
  const t0 = Date.now();
  kubectlOk(kc, ['delete', 'service', 'dns-gone', '-n', ns]);
  await until('NXDOMAIN', async () => /NXDOMAIN/.test((await exec(pods.querier, ['nslookup', name])).out), 15_000);
  const ms = Date.now() - t0;
  t.log(`NXDOMAIN from the pod ${ms} ms after delete`);
  t.true(ms < 10_000);
});

e2e('[sig-network] [hawser] 1,000 queries from a pod are answered with no loss', async (t) => {
  const ip = clusterIP('dns-test-service');
  const script = `ok=0; i=0; while [ $i -lt 1000 ]; do
    nslookup dns-test-service.${ns}.svc.${zone} 10.96.0.10 2>/dev/null | grep -q "Address: ${ip}" && ok=$((ok+1)); i=$((i+1)); done; echo ok=$ok`;
  const t0 = Date.now();
  const r = await sh(pods.querier, script, 120);
  t.log(`1,000 lookups from the pod in ${((Date.now() - t0) / 1000).toFixed(1)} s (bench/dns.ts prints p99)`);
  t.regex(r.out, /ok=1000/);
});
