// `hawser lab up`: a whole cluster on one host. Network first, then the registry and the control
// plane in the root namespace, then per node containerd, kubelet and podnet inside the node's
// namespace; waits for Ready nodes, optionally runs one demo pod per node, and shows the result.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Listr } from 'listr2';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../../api/client.ts';
import { loadKubeconfig } from '../../api/kubeconfig.ts';
import { core } from '../../api/paths.ts';
import { issueKubeconfig } from '../../control-plane/index.ts';
import { renderContainerdConfig } from '../../kubelet/cri/containerd-config.ts';
import { CriClient } from '../../kubelet/cri/client.ts';
import { pushImage, registryAnswers, renderRegistryConfig } from '../../../images/registry.ts';
import { controlPlaneConfig, controlPlaneProc, etcDirOf, labKubeconfig, nodeConfig, nodeProc, registryPaths, type ConfigFile } from './components.ts';
import { AGENT_COMPONENTS, agentSubject } from '../../control-plane/auth/agent-identities.ts';
import { addPodRoutes, createNetwork, hostRoutes } from './network.ts';
import { CNI_PLUGINS } from '../../../cni-plugins/names.ts';
import { pidOf, startProc, waitFor } from './procs.ts';
import { podRoutes, topology, type Lab, type LabOptions } from './topology.ts';
import { cidrsOverlap } from '../../api/ip.ts';

export interface UpOptions extends LabOptions {
  bin: string;
  repo: string;
  demo: boolean;
  quiet?: boolean;
}

export const LAB_IMAGES = [
  { name: 'pause', tag: '3.10' },
  { name: 'testapp', tag: '1.0' },
];
export const imageRef = (lab: Lab, name: string, tag: string) => `${lab.registryHost}/${name}:${tag}`;

function preflight(lab: Lab, o: UpOptions): void {
  if (process.getuid?.() !== 0) throw new Error('the lab needs root: run `sudo make lab`');
  for (const tool of ['containerd', 'runc', 'docker-registry', 'skopeo', 'iptables', 'nsenter', 'ip']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: run \`sudo make deps\``);
    }
  }
  for (const img of LAB_IMAGES) {
    if (!existsSync(join(o.repo, '.build/images', img.name, 'index.json'))) throw new Error(`image ${img.name} is not built: run \`sudo make deps\``);
  }
  // the lab's own routes (its /24 and, on a rerun, those to its pod CIDRs) are on its bridge
  const bad = hostRoutes()
    .filter((r) => r.dev !== lab.bridge && (cidrsOverlap(r.dst, `${lab.bridgeIP}/24`) || cidrsOverlap(r.dst, lab.clusterCIDR)))
    .map((r) => r.dst);
  if (bad.length)
    throw new Error(
      `the lab network ${lab.bridgeIP}/24 or the pod network ${lab.clusterCIDR} overlaps this host's route(s) ${bad.join(', ')}: choose another --subnet`,
    );
}

// each name is the shim (dist/cni/<name>), which falls back to dist/cni/<name>.cjs without a daemon
function linkCniPlugins(lab: Lab, repo: string): void {
  mkdirSync(lab.cniBinDir, { recursive: true });
  for (const p of CNI_PLUGINS) {
    const target = resolve(repo, 'dist/cni', p);
    const link = join(lab.cniBinDir, p);
    rmSync(link, { force: true });
    if (existsSync(target)) symlinkSync(target, link);
  }
}

/** A detached docker-registry on `listen` (kept by its pid file); the machine lab starts one too. */
export function startLabRegistry(r: { dataDir: string; logFile: string; pidFile: string }, listen: string, configFile: string): void {
  if (pidOf(r.pidFile)) return;
  mkdirSync(r.dataDir, { recursive: true });
  writeFileSync(configFile, renderRegistryConfig({ listen, storageDir: r.dataDir }));
  startProc({ id: 'registry', argv: ['docker-registry', 'serve', configFile], logFile: r.logFile, pidFile: r.pidFile });
}

function demoManifest(lab: Lab): string {
  return lab.nodes
    .map(
      (n) => `apiVersion: v1
kind: Pod
metadata:
  name: demo-${n.name.replace(`${lab.name}-`, '')}
  labels: {app: demo}
spec:
  nodeSelector: {kubernetes.io/hostname: ${n.name}}
  terminationGracePeriodSeconds: 2   # busybox httpd as PID 1 ignores SIGTERM
  containers:
  - name: web
    image: ${imageRef(lab, 'testapp', '1.0')}
    ports: [{containerPort: 8080, name: http}]
`,
    )
    .join('---\n');
}

function writeConfig(f: ConfigFile): void {
  mkdirSync(dirname(f.path), { recursive: true });
  writeFileSync(f.path, f.text);
}

export function kubectlPath(repo: string): string {
  return join(repo, '.build/bin/kubectl');
}

export async function labUp(o: UpOptions): Promise<Lab> {
  const lab = topology(o);
  const api = () => new ApiClient(loadKubeconfig(lab.adminKubeconfig), 'hawser-lab');
  const tasks = new Listr(
    [
      { title: 'Preflight checks', task: () => preflight(lab, o) },
      {
        title: `Lab network: bridge ${lab.bridge} ${lab.bridgeIP}/24, ${lab.nodes.length} node namespaces`,
        task: () => {
          mkdirSync(lab.dir, { recursive: true });
          writeFileSync(join(lab.dir, 'lab.json'), JSON.stringify({ name: o.name, subnet: o.subnet, workers: o.workers, podnetBackend: lab.podnetBackend }));
          createNetwork(lab);
          linkCniPlugins(lab, o.repo);
        },
      },
      {
        title: `Image registry on ${lab.registry}, with the locally built images`,
        task: async () => {
          startLabRegistry(registryPaths(lab), lab.registry, join(lab.dir, 'registry.yml'));
          await waitFor('the registry', () => registryAnswers(lab.registry), 20_000);
          for (const img of LAB_IMAGES) await pushImage(join(o.repo, '.build/images', img.name), `${lab.registry}/${img.name}:${img.tag}`);
        },
      },
      {
        title: `Control plane on ${lab.server}`,
        task: async () => {
          writeConfig(controlPlaneConfig(lab));
          const p = controlPlaneProc(lab, o.bin);
          if (!pidOf(p.pidFile)) startProc(p);
          // first start makes the CA and keys; on a loaded 2-core host that has taken over a minute
          await waitFor(
            'the API server',
            async () =>
              existsSync(lab.adminKubeconfig) &&
              (await api()
                .get('/readyz')
                .then(() => true)),
            120_000,
          );
        },
      },
      {
        title: 'Node agents: CNI daemon, containerd, kubelet, podnet, kube-proxy in each node namespace',
        task: async () => {
          for (const n of lab.nodes) {
            mkdirSync(`${n.dir}/cni/net.d`, { recursive: true });
            mkdirSync(etcDirOf(lab, n), { recursive: true });
            for (const c of ['kubelet', 'podnet', 'kube-proxy'] as const) writeConfig(nodeConfig(lab, n, c));
            writeFileSync(
              `${etcDirOf(lab, n)}/containerd.toml`,
              renderContainerdConfig({
                root: `${n.dir}/containerd/root`,
                state: `${n.dir}/containerd/state`,
                socket: n.socket,
                cniBinDir: lab.cniBinDir,
                cniConfDir: `${n.dir}/cni/net.d`,
                sandboxImage: imageRef(lab, 'pause', '3.10'),
                registryMirrors: { [lab.registryHost]: `http://${lab.registry}` },
              }),
            );
            for (const c of AGENT_COMPONENTS) {
              const kc = labKubeconfig(n, c);
              if (!existsSync(kc)) await issueKubeconfig({ dataDir: lab.serverDir, server: lab.server, ...agentSubject(c, n.name), outFile: kc });
            }
            for (const c of ['cni-daemon', 'containerd'] as const) {
              const p = nodeProc(lab, n, c, o.bin);
              if (!pidOf(p.pidFile)) startProc(p);
            }
          }
          for (const n of lab.nodes) {
            const cri = new CriClient(n.socket, { timeoutMs: 2000 });
            try {
              await waitFor(`containerd on ${n.name}`, () => cri.version().then(() => true), 30_000);
            } finally {
              cri.close();
            }
            for (const c of ['kubelet', 'podnet', 'kube-proxy'] as const) {
              const p = nodeProc(lab, n, c, o.bin);
              if (!pidOf(p.pidFile)) startProc(p);
            }
          }
        },
      },
      {
        title: `Nodes Ready, routes from the control plane to their pod CIDRs in ${lab.clusterCIDR}`,
        task: async () => {
          // a node is Ready only once podnet has its podCIDR, so every route is known then
          const nodes = await waitFor(
            'every node to be Ready',
            async () => {
              const list = await api().list<V1Node>(core('nodes'));
              const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
              return ready.length === lab.nodes.length ? ready : undefined;
            },
            90_000,
            500,
          );
          addPodRoutes(
            lab,
            podRoutes(
              lab,
              nodes.map((n) => ({ name: n.metadata?.name ?? '', podCIDR: n.spec?.podCIDR })),
            ),
          );
        },
      },
      {
        title: 'Demo pods, one per node',
        enabled: () => o.demo,
        task: async () => {
          execFileSync(kubectlPath(o.repo), ['apply', '-f', '-'], {
            input: demoManifest(lab),
            env: { ...process.env, KUBECONFIG: lab.adminKubeconfig },
            stdio: ['pipe', 'ignore', 'pipe'],
          });
          await waitFor(
            'the demo pods to be Running',
            async () => {
              const pods = await api().list<V1Pod>(core('pods', 'default'), { labelSelector: 'app=demo' });
              return pods.items.length === lab.nodes.length && pods.items.every((p) => p.status?.phase === 'Running' && p.status.podIP);
            },
            120_000,
            500,
          );
        },
      },
    ],
    {
      concurrent: false,
      exitOnError: true,
      rendererOptions: { collapseSubtasks: false },
      fallbackRendererCondition: o.quiet ? () => true : undefined,
      silentRendererCondition: o.quiet ? () => true : undefined,
    },
  );
  await tasks.run();
  return lab;
}

export function showLab(lab: Lab, repo: string): string {
  const kubectl = kubectlPath(repo);
  const out = execFileSync(kubectl, ['get', 'nodes,pods', '-o', 'wide'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: lab.adminKubeconfig } });
  return `${out}
Point kubectl v1.35 at the lab:
  export KUBECONFIG=${lab.adminKubeconfig}
  ${kubectl} get nodes -o wide
Logs of every component: ${lab.dir}/logs/    Tear down: sudo make lab-down
`;
}

export const repoFromBin = (bin: string) => dirname(dirname(resolve(bin)));
