// The `hawser install | uninstall | join | token` commands. main.ts mounts them with
// registerInstallCommands(program); the work is in install.ts, join.ts and the join token store.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import type { InstallSettings } from './configs.ts';
import { LAYOUT } from './layout.ts';
import { PROXY_MODES } from '../../kube-proxy/modes.ts';

const collect = (v: string, acc: string[] = []) => [...acc, v];

/** "host=endpoint" pairs of --registry-mirror. */
export function parseMirrors(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`--registry-mirror wants host=endpoint, e.g. registry.hawser.local=http://192.168.56.10:5000; got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v as T)) throw new Error(`${flag} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v as T;
}

/** Settings from flags; unset flags stay undefined so the previous install's values are kept. */
export function settingsFromFlags(o: Record<string, any>): Partial<InstallSettings> {
  return {
    nodeName: o.nodeName,
    nodeIP: o.nodeIp,
    advertiseAddress: o.advertiseAddress,
    tlsSANs: o.tlsSan ? String(o.tlsSan).split(',').filter(Boolean) : undefined,
    clusterCIDR: o.clusterCidr,
    serviceCIDR: o.serviceCidr,
    podnetBackend: oneOf('--backend', o.backend, ['host-gw', 'vxlan'] as const),
    proxyMode: oneOf('--proxy-mode', o.proxyMode, PROXY_MODES),
    sandboxImage: o.sandboxImage,
    registryMirrors: parseMirrors(o.registryMirror),
    separateUnits: o.separateUnits === true ? true : undefined,
    cgroupDriver: oneOf('--cgroup-driver', o.cgroupDriver, ['cgroupfs', 'systemd'] as const),
  };
}

const nodeFlags = (c: Command) =>
  c
    .option('--root <dir>', 'install under this directory instead of / (no apt, no systemctl)')
    .option('--from <file|dir>', 'what to install: a release tarball (make dist) or a build dir holding dist/hawser.cjs; default: this one')
    .option('--node-ip <ip>', 'InternalIP (default: the address that routes to the API server)')
    .option('--backend <host-gw|vxlan>', 'podnet backend')
    .option('--proxy-mode <iptables|nftables|ipvs>', 'kube-proxy mode')
    .option('--cluster-cidr <cidr>', 'pod network')
    .option(
      '--cgroup-driver <cgroupfs|systemd>',
      "agent: the kubelet's and containerd's cgroup driver (default: systemd on a systemd host with cgroup v2, else cgroupfs)",
    )
    .option('--sandbox-image <ref>', "containerd's pause image (default registry.k8s.io/pause:3.10)")
    .option('--registry-mirror <host=endpoint>', 'pull images named host/... from endpoint (repeatable)', collect)
    .option('--separate-units', 'agent: run podnet, the kubelet and kube-proxy as three units instead of one `hawser agent`');

export function registerInstallCommands(program: Command): void {
  nodeFlags(program.command('install'))
    .description('install hawser from this build as systemd units (server: control plane; agent: node agents)')
    .requiredOption('--role <server|agent>', 'what this host runs')
    .option('--node-name <name>', 'agent: Node name (default: host name)')
    .option('--advertise-address <ip>', 'server: address in certificates and kubeconfigs (default: --node-ip)')
    .option('--tls-san <names>', 'server: extra certificate names, comma separated')
    .option('--service-cidr <cidr>', 'server: Service network')
    .action(async (o) => {
      const { install, formatReport } = await import('./install.ts');
      const role = oneOf('--role', o.role, ['server', 'agent'] as const)!;
      const r = await install({ role, root: o.root, source: o.from, settings: settingsFromFlags(o) });
      process.stdout.write(`${formatReport('hawser install', r)}\n`);
    });

  program
    .command('uninstall')
    .description('remove everything `hawser install`/`join` added (and the packages it installed)')
    .option('--root <dir>', 'the --root the install used')
    .option('--purge', `also remove hawser's state (${LAYOUT.stateDir}, ${LAYOUT.etcDir})`)
    .action(async (o) => {
      const { uninstall } = await import('./install.ts');
      const r = await uninstall({ root: o.root, purge: o.purge });
      const lines = r.changes.map((c) => `  ${c.action.padEnd(13)} ${c.path}`);
      process.stdout.write(`${[...lines, `hawser uninstall: ${r.changes.length} change(s)`, ...r.notes.map((n) => `note: ${n}`)].join('\n')}\n`);
    });

  nodeFlags(program.command('join'))
    .description('join this host to a cluster as a worker: pin the CA by the token, get node credentials, install the agent')
    .requiredOption('--server <url>', 'API server, e.g. https://192.168.56.10:6443')
    .requiredOption('--token <token>', 'K10<ca-hash>::<id>.<secret> from `hawser token create`')
    .option('--node-name <name>', 'Node name', (v) => v)
    .option('--wait <seconds>', 'keep retrying an unreachable server this long', (v) => Number(v), 0)
    .action(async (o) => {
      const { join } = await import('./join.ts');
      const { formatReport } = await import('./install.ts');
      const nodeName = String(o.nodeName ?? hostname()).toLowerCase();
      const r = await join({ server: o.server, token: o.token, nodeName, root: o.root, source: o.from, settings: settingsFromFlags(o), waitMs: o.wait * 1000 });
      process.stdout.write(`${formatReport('hawser join', r)}\n`);
    });

  program
    .command('kubectl')
    .description(`the installed kubectl with the server's admin credentials (${LAYOUT.adminKubeconfig}) unless KUBECONFIG is set`)
    .argument('[args...]', "kubectl's arguments")
    .allowUnknownOption()
    .helpOption(false)
    .action(async (args: string[]) => {
      const { runKubectl } = await import('./kubectl.ts');
      process.exitCode = runKubectl(args);
    });

  const token = program.command('token').description('join tokens (on the server)');
  const dataDir = (c: Command) => c.option('--data-dir <dir>', 'control plane data dir', LAYOUT.serverDataDir);
  dataDir(token.command('create'))
    .description('create a join token and print it (K10<sha256 of the CA>::<id>.<secret>)')
    .option('--ttl <duration>', 'lifetime: 90s, 30m, 24h, 7d; 0 = never expires', '24h')
    .option('--description <text>', 'what it is for')
    .action(async (o) => {
      const { createToken } = await import('../../control-plane/join/store.ts');
      const { parseDuration } = await import('../../control-plane/join/token.ts');
      const t = await createToken(o.dataDir, { ttlMs: parseDuration(o.ttl), description: o.description });
      process.stdout.write(`${t.token}\n`);
    });
  dataDir(token.command('list'))
    .description('list join tokens (ids and expiry; secrets are not kept)')
    .action(async (o) => {
      const { readTokens } = await import('../../control-plane/join/store.ts');
      const rows = readTokens(o.dataDir).map((t) => `${t.id}\t${t.expires ?? 'never'}\t${t.description ?? ''}`);
      process.stdout.write(`ID\tEXPIRES\tDESCRIPTION\n${rows.join('\n')}${rows.length ? '\n' : ''}`);
    });
  dataDir(token.command('delete'))
    .description('revoke a join token')
    .argument('<id>')
    .action(async (id: string, o) => {
      const { deleteToken } = await import('../../control-plane/join/store.ts');
      if (!deleteToken(o.dataDir, id)) throw new Error(`no join token with id ${id}`);
      process.stdout.write(`join token ${id} deleted\n`);
    });
}
