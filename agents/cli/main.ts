// The one `hawser` binary: a subcommand per role, as k3s has. Each role runs with no flags on a
// standard host; every default can be changed by flag or by /etc/hawser/<role>.yaml.
import os from 'node:os';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseKeyValues, parseTaints, withConfigFile } from './config.ts';
import { registerInstallCommands } from './install/commands.ts';
import { installCrashPolicy } from './crash-policy.ts';
import { logger } from '../api/log.ts';
import { parseCgroupDriver } from '../kubelet/pods/cgroup-plan.ts';

installCrashPolicy(logger('hawser'));

const program = new Command('hawser').description('Kubernetes node agents and a bundled control plane').version('0.1.0');
const bundlePath = (): string => resolve(process.argv[1]);

function holdOpen(stop: () => Promise<void> | void): void {
  const quit = async (sig: string) => {
    process.stderr.write(`${sig}: shutting down\n`);
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void quit('SIGTERM'));
  process.on('SIGINT', () => void quit('SIGINT'));
}

program.command('control-plane').alias('server')
  .description('API server, storage, scheduler and controllers in one process')
  .option('--config <file>', 'YAML file with any of these settings')
  .option('--data-dir <dir>', 'state: database, certificates, kubeconfigs', '/var/lib/hawser/server')
  .option('--bind-address <ip>', 'address to listen on', '0.0.0.0')
  .option('--port <n>', 'HTTPS port', (v) => Number(v), 6443)
  .option('--advertise-address <ip>', 'address other hosts reach the API server on (default: the host address of the default route)')
  .option('--tls-san <names>', 'extra subject alternative names, comma separated', '')
  .option('--cluster-cidr <cidr>', 'pod network', '10.244.0.0/16')
  .option('--node-cidr-mask-size <n>', 'size of each node\'s podCIDR', (v) => Number(v), 24)
  .option('--service-cidr <cidr>', 'service network', '10.96.0.0/12')
  .option('--cluster-dns <ip>', 'ClusterIP of the kube-dns Service ("" = no cluster DNS)', '10.96.0.10')
  .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
  .option('--dns-port <n>', 'port of the DNS server on the advertise address', (v) => Number(v), 53)
  .option('--resolv-conf <file>', 'upstream resolvers for names outside the cluster', '/etc/resolv.conf')
  .option('--datastore-endpoint <urls>', 'etcd v3 client URLs, comma separated, e.g. http://127.0.0.1:2379 (default: SQLite in the data dir)')
  .option('--token-auth-file <file>', 'static bearer tokens: CSV lines token,user,uid,"group1,group2"')
  .option('--secrets-encryption', 'encrypt Secrets at rest (keys in <data-dir>/cred/encryption-config.json, made on first start)')
  .option('--write-kubeconfig <file>', 'also write the admin kubeconfig here (mode 0600) at each start, e.g. /etc/hawser/admin.kubeconfig')
  .action(async (_o, cmd: Command) => {
    const o = withConfigFile<Record<string, any>>(cmd, 'control-plane');
    const { startControlPlane } = await import('../control-plane/index.ts');
    const { defaultHostAddress } = await import('./host-address.ts');
    const cp = await startControlPlane({
      dataDir: o.dataDir, bindAddress: o.bindAddress, port: o.port,
      advertiseAddress: o.advertiseAddress ?? (o.bindAddress !== '0.0.0.0' ? o.bindAddress : defaultHostAddress()),
      extraSANs: String(o.tlsSan ?? '').split(',').filter(Boolean),
      clusterCIDR: o.clusterCidr, nodeCIDRMaskSize: o.nodeCidrMaskSize, serviceCIDR: o.serviceCidr,
      clusterDNS: o.clusterDns ? { port: o.dnsPort, serviceIP: o.clusterDns, clusterDomain: o.clusterDomain, resolvConf: o.resolvConf } : undefined,
      datastoreEndpoint: o.datastoreEndpoint || undefined,
      tokenAuthFile: o.tokenAuthFile || undefined,
      secretsEncryption: !!o.secretsEncryption,
    });
    const adminKubeconfig = `${o.dataDir}/admin.kubeconfig`;
    if (o.writeKubeconfig) (await import('./install/admin-kubeconfig.ts')).copyAdminKubeconfig(adminKubeconfig, o.writeKubeconfig);
    process.stderr.write(`control plane serving on ${cp.url}; admin kubeconfig: ${o.writeKubeconfig || adminKubeconfig}\n`);
    holdOpen(() => cp.close());
  });

program.command('kubelet').alias('agent')
  .description('register this node and run its pods through CRI')
  .option('--config <file>', 'YAML file with any of these settings')
  .option('--node-name <name>', 'node name', os.hostname().toLowerCase())
  .option('--kubeconfig <file>', 'credentials for the API server', '/etc/hawser/kubelet.kubeconfig')
  .option('--container-runtime-endpoint <socket>', 'CRI socket', '/run/containerd/containerd.sock')
  .option('--root-dir <dir>', 'kubelet state', '/var/lib/hawser/kubelet')
  .option('--pod-log-dir <dir>', 'container logs', '/var/log/pods')
  .option('--cgroup-root <path>', 'parent cgroup of pods', '/kubepods')
  .option('--cgroup-driver <cgroupfs|systemd>', 'who makes the pod cgroups: the kubelet (cgroupfs) or systemd (slices); must match containerd\'s SystemdCgroup', 'cgroupfs')
  .option('--pod-max-pids <n>', 'pids.max of each pod (-1: no limit)', (v) => Number(v), -1)
  .option('--node-ip <ip>', 'InternalIP (default: the address that routes to the API server)')
  .option('--node-labels <k=v,...>', 'extra node labels')
  .option('--register-with-taints <k=v:Effect,...>', 'taints to register with')
  .option('--max-pods <n>', 'pod capacity', (v) => Number(v), 110)
  .option('--port <n>', 'kubelet server port', (v) => Number(v), 10250)
  .option('--resolv-conf <file>', 'resolver config for pods', '/etc/resolv.conf')
  .option('--cluster-dns <ips>', 'cluster DNS server IPs for ClusterFirst pods, comma separated ("" = the node\'s resolvers)', '')
  .option('--cluster-domain <domain>', 'cluster DNS domain', 'cluster.local')
  .option('--pod-manifest-path <dir>', 'static pod manifests (default: <root-dir>/pod-manifests)')
  .option('--system-reserved <res=q,...>', 'resources kept for the OS, e.g. cpu=100m,memory=256Mi', '')
  .option('--kube-reserved <res=q,...>', 'resources kept for the node agents', '')
  .option('--eviction-hard <signal<q,...>', 'hard eviction thresholds (drive the pressure conditions)', 'memory.available<100Mi,nodefs.available<10%,imagefs.available<15%,nodefs.inodesFree<5%')
  .option('--image-gc-high-threshold <percent>', 'image disk usage that starts image garbage collection', (v) => Number(v), 85)
  .option('--image-gc-low-threshold <percent>', 'image disk usage image garbage collection frees down to', (v) => Number(v), 80)
  .option('--minimum-image-ttl-duration <duration>', 'minimum age of an unused image before it may be collected', '2m')
  .action(async (_o, cmd: Command) => {
    const o = withConfigFile<Record<string, any>>(cmd, 'kubelet');
    const { startKubelet } = await import('../kubelet/kubelet.ts');
    const k = await startKubelet({
      nodeName: o.nodeName, kubeconfig: o.kubeconfig, runtimeEndpoint: o.containerRuntimeEndpoint, rootDir: o.rootDir,
      podLogDir: o.podLogDir, cgroupRoot: o.cgroupRoot, cgroupDriver: parseCgroupDriver(o.cgroupDriver), podPidsLimit: Number(o.podMaxPids), nodeIP: o.nodeIp, nodeLabels: parseKeyValues(o.nodeLabels),
      registerWithTaints: parseTaints(o.registerWithTaints), maxPods: o.maxPods, port: o.port, resolvConf: o.resolvConf, relistMs: 1000,
      clusterDNS: String(o.clusterDns ?? '').split(',').map((s) => s.trim()).filter(Boolean), clusterDomain: o.clusterDomain,
      podManifestPath: o.podManifestPath, systemReserved: o.systemReserved, kubeReserved: o.kubeReserved, evictionHard: o.evictionHard,
      imageGCHighThreshold: o.imageGcHighThreshold, imageGCLowThreshold: o.imageGcLowThreshold, imageMinimumGCAge: String(o.minimumImageTtlDuration),
    });
    holdOpen(() => k.stop());
  });

program.command('podnet')
  .description('pod network agent: CNI config for this node, routes to the other nodes\' pods')
  .option('--config <file>', 'YAML file with any of these settings')
  .option('--node-name <name>', 'node name', os.hostname().toLowerCase())
  .option('--kubeconfig <file>', 'credentials for the API server', '/etc/hawser/kubelet.kubeconfig')
  .option('--cni-conf-dir <dir>', 'where containerd reads CNI configs', '/etc/cni/net.d')
  .option('--cni-bin-dir <dir>', 'where the CNI plugins are', '/opt/cni/bin')
  .option('--ipam-data-dir <dir>', 'host-local allocations', '/var/lib/cni/networks')
  .option('--bridge <name>', 'pod bridge', 'cni0')
  .option('--cluster-cidr <cidr>', 'pod network (not masqueraded inside it)', '10.244.0.0/16')
  .option('--backend <host-gw|vxlan>', 'how pod traffic crosses nodes: routes on one L2, or a VXLAN overlay', 'host-gw')
  .action(async (_o, cmd: Command) => {
    const o = withConfigFile<Record<string, any>>(cmd, 'podnet');
    if (o.backend !== 'host-gw' && o.backend !== 'vxlan') throw new Error(`--backend must be host-gw or vxlan, not "${o.backend}"`);
    const { startPodnet } = await import('../podnet/podnet.ts');
    const p = await startPodnet({
      nodeName: o.nodeName, kubeconfig: o.kubeconfig, cniConfDir: o.cniConfDir, cniBinDir: o.cniBinDir,
      ipamDataDir: o.ipamDataDir, bridge: o.bridge, clusterCIDR: o.clusterCidr, backend: o.backend,
    });
    holdOpen(() => p.stop());
  });

/** Go-style durations as kube-proxy's flags take them: 500ms, 1s, 30s, 1m. */
function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new Error(`bad duration "${v}": use e.g. 500ms, 1s, 30s, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

program.command('kube-proxy').alias('proxy')
  .description('Services and EndpointSlices as kernel rules: iptables (default), nftables or ipvs')
  .option('--config <file>', 'YAML file with any of these settings')
  .option('--node-name <name>', 'node name', os.hostname().toLowerCase())
  .option('--kubeconfig <file>', 'credentials for the API server', '/etc/hawser/kubelet.kubeconfig')
  .option('--proxy-mode <mode>', 'iptables, nftables or ipvs', 'iptables')
  .option('--cluster-cidr <cidr>', 'pod network: traffic from outside it to a Service is masqueraded', '10.244.0.0/16')
  .option('--node-ip <ip>', 'this node\'s address (default: from the Node object)')
  .option('--healthz-bind-address <ip:port>', 'healthz server', '0.0.0.0:10256')
  .option('--metrics-bind-address <ip:port>', 'metrics server', '127.0.0.1:10249')
  .option('--min-sync-period <duration>', 'least time between syncs (batches bursts)', '1s')
  .option('--sync-period <duration>', 'how often every Service is re-checked', '30s')
  .option('--masquerade-all', 'masquerade all Service traffic')
  .option('--nodeport-addresses <cidrs>', 'addresses NodePorts answer on, comma separated (default: all)')
  .option('--ipvs-scheduler <name>', 'ipvs mode: rr, lc, dh, sh, sed or nq', 'rr')
  .option('--cleanup', 'remove every rule of the mode when stopping')
  .action(async (_o, cmd: Command) => {
    const o = withConfigFile<Record<string, any>>(cmd, 'kube-proxy');
    if (!['iptables', 'nftables', 'ipvs'].includes(o.proxyMode)) throw new Error(`--proxy-mode must be iptables, nftables or ipvs, not "${o.proxyMode}"`);
    const { startKubeProxy } = await import('../kube-proxy/index.ts');
    const p = await startKubeProxy({
      nodeName: o.nodeName, kubeconfig: o.kubeconfig, mode: o.proxyMode, clusterCIDR: o.clusterCidr, nodeIP: o.nodeIp,
      healthzBindAddress: o.healthzBindAddress, metricsBindAddress: o.metricsBindAddress,
      minSyncPeriodMs: duration(String(o.minSyncPeriod)), syncPeriodMs: duration(String(o.syncPeriod)),
      masqueradeAll: !!o.masqueradeAll, nodePortAddresses: o.nodeportAddresses ? String(o.nodeportAddresses).split(',') : undefined,
      ipvsScheduler: o.ipvsScheduler, cleanupOnStop: !!o.cleanup,
    });
    holdOpen(() => p.stop());
  });

program.command('cni-daemon')
  .description('serve the CNI plugins from a resident process in this network namespace (the exec\'d shims hand requests to it)')
  .action(async () => {
    await import('../../cni-plugins/daemon/main.ts');
  });

program.command('kubeconfig')
  .description('issue a kubeconfig with a client certificate signed by the cluster CA')
  .requiredOption('--user <name>', 'user (certificate CN), e.g. system:node:worker1')
  .option('--group <names>', 'groups (certificate O), comma separated', '')
  .option('--data-dir <dir>', 'control plane data dir', '/var/lib/hawser/server')
  .requiredOption('--server <url>', 'API server URL')
  .requiredOption('--out <file>', 'where to write it')
  .action(async (o) => {
    const { issueKubeconfig } = await import('../control-plane/index.ts');
    await issueKubeconfig({ dataDir: o.dataDir, server: o.server, user: o.user, groups: String(o.group).split(',').filter(Boolean), outFile: o.out });
  });

const lab = program.command('lab').description('a multi-node cluster in network namespaces on this host');
const labOpts = (c: Command) => c
  .option('--name <name>', 'lab name (prefix of its namespaces and links)', 'hawser')
  .option('--subnet <cidr>', 'the /24 joining the nodes', '10.77.0.0/24')
  .option('--workers <n>', 'worker nodes', (v) => Number(v), 2)
  .option('--state-dir <dir>', 'where the lab keeps its state', '/var/lib/hawser-lab');

labOpts(lab.command('up')).option('--no-demo', 'skip the demo pods')
  .option('--podnet-backend <host-gw|vxlan>', 'how pod traffic crosses nodes', 'host-gw')
  .option('--machines', 'instead: three Debian machines booted with systemd-nspawn, the release installed in each (sudo make vm-lab)')
  .option('--release <file>', 'with --machines: the release tarball (default: dist/release/ of this build)')
  .description('bring the lab up (idempotent) and show it')
  .action(async (o) => {
    if (o.machines) return (await import('./machines/cli.ts')).machinesUpCommand(bundlePath(), o.release);
    const { labUp, showLab, repoFromBin } = await import('./lab/up.ts');
    const bin = bundlePath();
    const repo = repoFromBin(bin);
    const l = await labUp({ name: o.name, subnet: o.subnet, workers: o.workers, stateRoot: o.stateDir, podnetBackend: o.podnetBackend, bin, repo, demo: o.demo });
    process.stdout.write(`\n${showLab(l, repo)}`);
  });

labOpts(lab.command('down')).description('remove every namespace, link, rule, process and file of the lab')
  .option('--machines', 'the machine lab instead (make vm-lab-down)')
  .action(async (o) => {
    if (o.machines) return (await import('./machines/cli.ts')).machinesDownCommand();
    const { labDown } = await import('./lab/down.ts');
    await labDown({ name: o.name, subnet: o.subnet, workers: o.workers, stateRoot: o.stateDir });
    process.stdout.write(`lab ${o.name} removed\n`);
  });

registerInstallCommands(program);

const secrets = program.command('secrets-encrypt').description('secrets encryption at rest: status and key rotation (run on the server host)');
const secretsOpts = (c: Command) => c.option('--data-dir <dir>', 'control plane data dir', '/var/lib/hawser/server');
const waitOpts = (c: Command) => secretsOpts(c).option('--timeout <seconds>', 'how long to wait for the control plane', (v) => Number(v), 300);
secretsOpts(secrets.command('status')).description('whether Secrets are encrypted, the rotation stage and the keys')
  .action(async (o) => {
    const { encryptionStatus } = await import('./secrets-encrypt.ts');
    process.stdout.write(encryptionStatus(o.dataDir));
  });
secretsOpts(secrets.command('prepare')).description('add a new key that every server reads with (not yet written with)')
  .action(async (o) => {
    const { prepareKey } = await import('./secrets-encrypt.ts');
    process.stdout.write(`prepared key ${prepareKey(o.dataDir)}\n`);
  });
secretsOpts(secrets.command('rotate')).description('make the prepared key the one new writes use')
  .action(async (o) => {
    const { rotateKey } = await import('./secrets-encrypt.ts');
    process.stdout.write(`key ${rotateKey(o.dataDir)} is now active; run "hawser secrets-encrypt reencrypt" to rewrite the existing Secrets\n`);
  });
const reencryptAction = (verb: 'reencrypt' | 'rotate-keys') => async (o: { dataDir: string; timeout: number }) => {
  const m = await import('./secrets-encrypt.ts');
  const s = await (verb === 'reencrypt' ? m.reencrypt : m.rotateKeys)(o.dataDir, { timeoutMs: o.timeout * 1000 });
  process.stdout.write(`reencryption finished: ${s.rewritten} of ${s.total} rewritten; older keys removed\n`);
};
waitOpts(secrets.command('reencrypt')).description('have the running control plane rewrite every Secret with the active key, then drop the others')
  .action(reencryptAction('reencrypt'));
waitOpts(secrets.command('rotate-keys')).description('prepare, rotate and reencrypt in one step')
  .action(reencryptAction('rotate-keys'));

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`hawser: ${err.message}\n`);
  process.exit(1);
});
