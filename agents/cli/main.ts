// The one `hawser` binary: a subcommand per role, as k3s has. Each role runs with no flags on a
// standard host; every default can be changed by flag or by /etc/hawser/<role>.yaml.
import { resolve } from 'node:path';
import { Command } from 'commander';
import { commandInput, settingsFrom } from './config.ts';
import { podnetOptions, proxyOptions, toKubeletOptions } from './node-flags.ts';
import { addFlags, type Settings } from './flags/spec.ts';
import { COMPONENT_SPECS, type SpecName, type Specs } from './flags/components.ts';
import { registerInstallCommands } from './install/commands.ts';
import { installCrashPolicy } from './crash-policy.ts';
import { logger } from '../api/log.ts';
import { applyLogFlags, logSpec } from './log-flags.ts';
import { systemdNotifier } from './sd-notify.ts';
import { PROXY_MODE_LIST } from '../kube-proxy/modes.ts';

installCrashPolicy(logger('hawser'));
// taken at start, before anything could hand NOTIFY_SOCKET on to a child
const systemd = systemdNotifier();

const program = new Command('hawser').description('Kubernetes node agents and a bundled control plane').version('0.1.0');
const bundlePath = (): string => resolve(process.argv[1]);

/**
 * A component's command: its flags from its spec (flags/), and its action given the typed settings
 * (command line over /etc/hawser/<name>.yaml or --config over defaults), with the log flags applied
 * before the action loads the component (its loggers read them).
 */
function component<N extends SpecName>(name: N, run: (o: Settings<Specs[N]>) => Promise<void>): Command {
  const spec: Specs[N] = COMPONENT_SPECS[name];
  return addFlags(program.command(name), spec).action(async (_o, cmd: Command) => {
    const input = commandInput(spec, cmd, name);
    applyLogFlags(settingsFrom(logSpec, input));
    if (input.upstream) {
      const { kind, ignored } = input.upstream;
      logger(name).info(
        { file: input.path, ignored },
        `read ${kind}: ${ignored.length ? `ignoring fields hawser does not implement: ${ignored.join(', ')}` : 'every set field is implemented'} (docs/flags.md)`,
      );
    }
    await run(settingsFrom(spec, input));
  });
}

/** Tells systemd (Type=notify) the component serves once its ready promise settles, then runs until a signal. */
function holdOpen(stop: () => Promise<void> | void, ready?: { when: Promise<void>; status: string }): void {
  if (ready) void ready.when.then(() => systemd.ready(ready.status));
  const quit = async (sig: string) => {
    process.stderr.write(`${sig}: shutting down\n`);
    await systemd.stopping();
    await stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void quit('SIGTERM'));
  process.on('SIGINT', () => void quit('SIGINT'));
}

component('control-plane', async (o) => {
  const { startControlPlane } = await import('../control-plane/index.ts');
  const { defaultHostAddress } = await import('./host-address.ts');
  const cp = await startControlPlane({
    dataDir: o.dataDir,
    bindAddress: o.bindAddress,
    port: o.port,
    advertiseAddress: o.advertiseAddress ?? (o.bindAddress !== '0.0.0.0' ? o.bindAddress : defaultHostAddress()),
    extraSANs: o.tlsSan,
    clusterCIDR: o.clusterCidr,
    nodeCIDRMaskSize: o.nodeCidrMaskSize,
    serviceCIDR: o.serviceCidr,
    clusterDNS: o.clusterDns ? { port: o.dnsPort, serviceIP: o.clusterDns, clusterDomain: o.clusterDomain, resolvConf: o.resolvConf } : undefined,
    datastoreEndpoint: o.datastoreEndpoint || undefined,
    tokenAuthFile: o.tokenAuthFile || undefined,
    serviceAccountIssuer: o.serviceAccountIssuer || undefined,
    serviceAccountMaxTokenExpirationSeconds: o.serviceAccountMaxTokenExpiration ?? 0,
    serviceAccountExtendTokenExpiration: o.serviceAccountExtendTokenExpiration,
    secretsEncryption: o.secretsEncryption,
    metricResolutionMs: o.metricResolution,
    disableIngress: o.disableIngress,
    disableServiceLB: o.disableServicelb,
  });
  const adminKubeconfig = `${o.dataDir}/admin.kubeconfig`;
  if (o.writeKubeconfig) (await import('./install/admin-kubeconfig.ts')).copyAdminKubeconfig(adminKubeconfig, o.writeKubeconfig);
  process.stderr.write(`control plane serving on ${cp.url}; admin kubeconfig: ${o.writeKubeconfig || adminKubeconfig}\n`);
  holdOpen(() => cp.close(), { when: Promise.resolve(), status: `serving on ${cp.url}` });
})
  .alias('server')
  .description('API server, storage, scheduler and controllers in one process');

component('kubelet', async (s) => {
  const { startKubelet } = await import('../kubelet/kubelet.ts');
  const o = toKubeletOptions(s);
  await systemd.status(`registering node ${o.nodeName}`);
  const k = await startKubelet(o);
  await systemd.status(`node ${o.nodeName} registered; listing the runtime`);
  holdOpen(() => k.stop(), { when: k.ready, status: `node ${o.nodeName} registered, runtime listed` });
})
  .description('register this node and run its pods through CRI')
  .addHelpText('after', '\n`hawser agent` runs the kubelet, podnet and kube-proxy in one process.');

component('podnet', async (o) => {
  const { startPodnet } = await import('../podnet/podnet.ts');
  const p = await startPodnet(podnetOptions(o));
  holdOpen(() => p.stop(), { when: p.ready, status: 'pod network reconciled' });
}).description("pod network agent: CNI config for this node, routes to the other nodes' pods");

/** --cleanup on kube-proxy (and the agent that runs it): remove every mode's rules and exit, as upstream. */
async function proxyCleanupAndExit(): Promise<void> {
  const { cleanupLeftovers } = await import('../kube-proxy/cleanup.ts');
  const { makeExec } = await import('../api/exec.ts');
  const failures = await cleanupLeftovers(makeExec(), logger('kube-proxy'));
  for (const f of failures) process.stderr.write(`cleanup failed: ${f}\n`);
  process.exit(failures.length ? 1 : 0);
}

component('kube-proxy', async (o) => {
  if (o.cleanup) return proxyCleanupAndExit();
  const { startKubeProxy } = await import('../kube-proxy/index.ts');
  const p = await startKubeProxy(proxyOptions(o));
  holdOpen(() => p.stop(), { when: p.ready, status: 'Service rules synced' });
})
  .alias('proxy')
  .description('Services and EndpointSlices as kernel rules: iptables (default), nftables or ipvs');

component('agent', async (o) => {
  if (o.cleanup) return proxyCleanupAndExit();
  const { startAgent } = await import('./agent.ts');
  const a = await startAgent(o, (s) => void systemd.status(s));
  holdOpen(() => a.stop(), { when: a.ready, status: 'pod network reconciled, node registered, runtime listed, Service rules synced' });
}).description('every node agent in one process, as k3s runs its agent: podnet, the kubelet and kube-proxy');

component('cni-daemon', async () => {
  await import('../../cni-plugins/daemon/main.ts'); // exits at once when another daemon serves
  await systemd.ready('serving CNI requests');
}).description("serve the CNI plugins from a resident process in this network namespace (the exec'd shims hand requests to it)");

program
  .command('kubeconfig')
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
const labOpts = (c: Command) =>
  c
    .option('--name <name>', 'lab name (prefix of its namespaces and links)', 'hawser')
    .option('--subnet <cidr>', 'the /24 joining the nodes', '10.77.0.0/24')
    .option('--workers <n>', 'worker nodes', (v) => Number(v), 2)
    .option('--state-dir <dir>', 'where the lab keeps its state', '/var/lib/hawser-lab');

labOpts(lab.command('up'))
  .option('--no-demo', 'skip the demo pods')
  .option('--podnet-backend <host-gw|vxlan>', 'how pod traffic crosses nodes', 'host-gw')
  .option('--machines', 'instead: three Debian machines booted with systemd-nspawn, the release installed in each (sudo make vm-lab)')
  .option('--release <file>', 'with --machines: the release tarball (default: dist/release/ of this build)')
  .description('bring the lab up (idempotent) and show it')
  .action(async (o) => {
    if (o.machines) return (await import('./machines/cli.ts')).machinesUpCommand(bundlePath(), o.release);
    const { labUp, showLab, repoFromBin } = await import('./lab/up.ts');
    const bin = bundlePath();
    const repo = repoFromBin(bin);
    const l = await labUp({
      name: o.name,
      subnet: o.subnet,
      workers: o.workers,
      stateRoot: o.stateDir,
      podnetBackend: o.podnetBackend,
      bin,
      repo,
      demo: o.demo,
    });
    process.stdout.write(`\n${showLab(l, repo)}`);
  });

labOpts(lab.command('down'))
  .description('remove every namespace, link, rule, process and file of the lab')
  .option('--machines', 'the machine lab instead (make vm-lab-down)')
  .action(async (o) => {
    if (o.machines) return (await import('./machines/cli.ts')).machinesDownCommand();
    const { labDown } = await import('./lab/down.ts');
    await labDown({ name: o.name, subnet: o.subnet, workers: o.workers, stateRoot: o.stateDir });
    process.stdout.write(`lab ${o.name} removed\n`);
  });

registerInstallCommands(program);

program
  .command('status')
  .description('what is installed and running here, versions, nodes and pods, certificate expiry (exit 1 on a problem)')
  .action(async () => {
    const { gatherStatus } = await import('./status/gather.ts');
    const { renderStatus } = await import('./status/report.ts');
    const r = renderStatus(await gatherStatus(program.version() ?? 'unknown'));
    process.stdout.write(r.text);
    process.exitCode = r.code;
  });

program
  .command('check-config')
  .description('check this host for what hawser needs: kernel features, cgroups, iptables, ports, CIDR overlaps (exit 1 if something fails)')
  .option('--role <server|agent>', 'what to check for (default: the installed role, else agent)')
  .option('--cluster-cidr <cidr>', 'pod network (default: the installed setting)')
  .option('--service-cidr <cidr>', 'service network (default: the installed setting)')
  .option('--podnet-backend <host-gw|vxlan>', 'pod network backend (default: the installed setting)')
  .option('--proxy-mode <mode>', `${PROXY_MODE_LIST} (default: the installed setting)`)
  .action(async (o) => {
    const { checkConfig } = await import('./check/command.ts');
    const r = checkConfig(o);
    process.stdout.write(r.text);
    process.exitCode = r.code;
  });

const secrets = program.command('secrets-encrypt').description('secrets encryption at rest: status and key rotation (run on the server host)');
const secretsOpts = (c: Command) => c.option('--data-dir <dir>', 'control plane data dir', '/var/lib/hawser/server');
const waitOpts = (c: Command) => secretsOpts(c).option('--timeout <seconds>', 'how long to wait for the control plane', (v) => Number(v), 300);
secretsOpts(secrets.command('status'))
  .description('whether Secrets are encrypted, the rotation stage and the keys')
  .action(async (o) => {
    const { encryptionStatus } = await import('./secrets-encrypt.ts');
    process.stdout.write(encryptionStatus(o.dataDir));
  });
secretsOpts(secrets.command('prepare'))
  .description('add a new key that every server reads with (not yet written with)')
  .action(async (o) => {
    const { prepareKey } = await import('./secrets-encrypt.ts');
    process.stdout.write(`prepared key ${prepareKey(o.dataDir)}\n`);
  });
secretsOpts(secrets.command('rotate'))
  .description('make the prepared key the one new writes use')
  .action(async (o) => {
    const { rotateKey } = await import('./secrets-encrypt.ts');
    process.stdout.write(`key ${rotateKey(o.dataDir)} is now active; run "hawser secrets-encrypt reencrypt" to rewrite the existing Secrets\n`);
  });
const reencryptAction = (verb: 'reencrypt' | 'rotate-keys') => async (o: { dataDir: string; timeout: number }) => {
  const m = await import('./secrets-encrypt.ts');
  const s = await (verb === 'reencrypt' ? m.reencrypt : m.rotateKeys)(o.dataDir, { timeoutMs: o.timeout * 1000 });
  process.stdout.write(`reencryption finished: ${s.rewritten} of ${s.total} rewritten; older keys removed\n`);
};
waitOpts(secrets.command('reencrypt'))
  .description('have the running control plane rewrite every Secret with the active key, then drop the others')
  .action(reencryptAction('reencrypt'));
waitOpts(secrets.command('rotate-keys')).description('prepare, rotate and reencrypt in one step').action(reencryptAction('rotate-keys'));

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`hawser: ${err.message}\n`);
  process.exit(1);
});
