// `hawser check-config`: what a host needs to run hawser, judged from facts gathered elsewhere
// (facts.ts), as k3s's check-config judges a kernel config. Pure, so every verdict is unit-tested
// without the host it describes. A "fail" stops the components from working (the install would
// be refused by the kubelet, containerd or the kernel later, with a less clear message); a "warn"
// is something the install fixes itself or that only some setups need.
import { overlaps, parseCIDR, type CIDR } from '../../api/ip.ts';
import { hostTools, type Role } from '../install/layout.ts';
import { VXLAN_DEVICE } from '../../podnet/vxlan-plan.ts';
import type { ProxyMode } from '../../kube-proxy/modes.ts';

export type Verdict = 'ok' | 'warn' | 'fail';
export interface Check {
  group: string;
  name: string;
  verdict: Verdict;
  detail: string;
}

export interface Route {
  dst: string;
  dev: string /** via a gateway (another host), not directly connected */;
  via?: boolean;
}
export interface Listener {
  port: number;
  process?: string /** the process's command line names hawser */;
  hawser?: boolean;
}

export interface HostFacts {
  kernel: string;
  /** /proc/filesystems names (overlay: containerd's snapshotter) */
  filesystems: string[];
  /** /proc/sys/net/ipv4/ip_forward, undefined when unreadable */
  ipForward?: string;
  /** /proc/sys/net/bridge/bridge-nf-call-iptables exists (br_netfilter loaded or built in) */
  brNetfilter: boolean;
  /** modules loaded or built in, among those hawser uses (vxlan, overlay, br_netfilter, ip_vs) */
  modules: string[];
  cgroup: { version: 1 | 2; controllers: string[] };
  swapDevices: number;
  /** `iptables --version`, '' when missing */
  iptablesVersion: string;
  /** commands found on PATH, among those asked for */
  commands: string[];
  systemdRunning: boolean;
  /** the CRI socket exists (agent) */
  criSocket: boolean;
  routes: Route[];
  listeners: Listener[];
}

export interface CheckOptions {
  role: Role;
  clusterCIDR: string;
  serviceCIDR: string;
  podnetBackend: 'host-gw' | 'vxlan';
  proxyMode: ProxyMode;
}

/** Ports each role listens on (upstream's defaults). */
export const ROLE_PORTS: Record<Role, { port: number; what: string }[]> = {
  server: [{ port: 6443, what: 'API server' }],
  agent: [
    { port: 10250, what: 'kubelet' },
    { port: 10256, what: 'kube-proxy healthz' },
  ],
};

/** The commands a host of this role and proxy mode runs (install/layout.ts declares them with their packages). */
export const roleCommands = (role: Role, mode: ProxyMode): string[] => hostTools(role, mode).map((t) => t.cmd);

/** Devices whose routes podnet makes (the bridge's default name and the VXLAN device). */
export const OWN_DEVICES = ['cni0', VXLAN_DEVICE];

const REQUIRED_CONTROLLERS = ['cpu', 'memory', 'pids'];

const check = (group: string, name: string, verdict: Verdict, detail: string): Check => ({ group, name, verdict, detail });

function cidrChecks(f: HostFacts, o: CheckOptions): Check[] {
  const out: Check[] = [];
  const nets: [string, string, CIDR | null][] = [
    ['cluster CIDR', o.clusterCIDR, parseCIDR(o.clusterCIDR)],
    ['service CIDR', o.serviceCIDR, parseCIDR(o.serviceCIDR)],
  ];
  for (const [label, text, c] of nets) {
    if (!c) {
      out.push(check('network', label, 'fail', `"${text}" is not a CIDR`));
      continue;
    }
    // hawser's own routes lie inside the pod network: this node's podCIDR on the bridge or the
    // VXLAN device, the other nodes' through a gateway (host-gw). Any other route that overlaps
    // it, a LAN inside it or one containing it, sends pod or Service traffic to the wrong place.
    const own = (r: Route, rc: CIDR) => label === 'cluster CIDR' && rc.prefix >= c.prefix && (r.via || OWN_DEVICES.includes(r.dev));
    const clash = f.routes.filter((r) => {
      const rc = parseCIDR(r.dst);
      return rc && overlaps(rc, c) && !own(r, rc);
    });
    out.push(
      clash.length
        ? check(
            'network',
            label,
            'fail',
            `${text} overlaps the host's route(s) ${clash.map((r) => `${r.dst} dev ${r.dev}`).join(', ')}: choose another with --${label === 'cluster CIDR' ? 'cluster-cidr' : 'service-cidr'}`,
          )
        : check('network', label, 'ok', `${text}, no host route overlaps it`),
    );
  }
  const [a, b] = nets.map(([, , c]) => c);
  if (a && b && overlaps(a, b)) out.push(check('network', 'cluster and service CIDRs', 'fail', `${o.clusterCIDR} and ${o.serviceCIDR} overlap`));
  return out;
}

/** Every verdict, in the order they are printed. */
export function evaluate(f: HostFacts, o: CheckOptions): Check[] {
  const out: Check[] = [check('system', 'kernel', 'ok', f.kernel)];
  out.push(
    f.systemdRunning
      ? check('system', 'systemd', 'ok', 'systemd is PID 1: the install runs the components as units')
      : check('system', 'systemd', 'warn', 'systemd is not PID 1: `hawser install` writes the units but cannot start them'),
  );

  const missingCtl = REQUIRED_CONTROLLERS.filter((c) => !f.cgroup.controllers.includes(c));
  out.push(
    missingCtl.length
      ? check('cgroups', `cgroup v${f.cgroup.version} controllers`, 'fail', `missing ${missingCtl.join(', ')} (the kubelet sets pod limits with them)`)
      : check('cgroups', `cgroup v${f.cgroup.version} controllers`, 'ok', REQUIRED_CONTROLLERS.join(', ')),
  );
  if (o.role === 'agent') {
    out.push(
      f.swapDevices > 0
        ? check('cgroups', 'swap', 'warn', `${f.swapDevices} swap device(s) on: pods' memory limits do not bound their swap use`)
        : check('cgroups', 'swap', 'ok', 'off'),
    );
    out.push(
      f.filesystems.includes('overlay')
        ? check('kernel', 'overlay filesystem', 'ok', "containerd's overlayfs snapshotter can run")
        : check('kernel', 'overlay filesystem', 'fail', 'not in /proc/filesystems: containerd cannot unpack images with its default snapshotter'),
    );
    out.push(
      f.brNetfilter
        ? check('kernel', 'br_netfilter', 'ok', 'bridged pod traffic passes iptables (Services work between pods on one node)')
        : check('kernel', 'br_netfilter', 'warn', 'not loaded: the install loads it (modules-load.d) and sets bridge-nf-call-iptables'),
    );
    out.push(
      f.ipForward === '1'
        ? check('kernel', 'ip_forward', 'ok', 'on')
        : check('kernel', 'ip_forward', 'warn', `${f.ipForward ?? 'unreadable'}: the install turns it on (sysctl.d)`),
    );
    if (o.podnetBackend === 'vxlan') {
      out.push(
        f.modules.includes('vxlan')
          ? check('kernel', 'vxlan', 'ok', 'available')
          : check('kernel', 'vxlan', 'warn', 'not loaded or built in: the install loads it; without it the vxlan backend fails'),
      );
    }
    if (o.proxyMode === 'ipvs') {
      out.push(
        f.modules.includes('ip_vs')
          ? check('kernel', 'ip_vs', 'ok', 'available')
          : check('kernel', 'ip_vs', 'fail', 'IPVS is not in this kernel: use --proxy-mode iptables or nftables'),
      );
    }
    const backend = /\((nf_tables|legacy)\)/.exec(f.iptablesVersion)?.[1];
    out.push(
      f.iptablesVersion
        ? check('network', 'iptables', 'ok', `${f.iptablesVersion}${backend ? `: the ${backend} backend` : ''}`)
        : check('network', 'iptables', 'fail', 'not installed: kube-proxy and the portmap plugin need it'),
    );
    for (const cmd of roleCommands('agent', o.proxyMode).filter((c) => c !== 'iptables')) {
      out.push(
        f.commands.includes(cmd) ? check('runtime', cmd, 'ok', 'found') : check('runtime', cmd, 'warn', 'not found: `hawser install --role agent` installs it'),
      );
    }
    out.push(
      f.criSocket
        ? check('runtime', 'CRI socket', 'ok', 'containerd answers on its socket')
        : check('runtime', 'CRI socket', 'warn', 'no containerd socket yet: the install starts containerd'),
    );
  }
  out.push(...cidrChecks(f, o));
  for (const p of ROLE_PORTS[o.role]) {
    const l = f.listeners.find((x) => x.port === p.port);
    out.push(
      !l
        ? check('ports', `${p.port}`, 'ok', `free for the ${p.what}`)
        : l.hawser
          ? check('ports', `${p.port}`, 'ok', `the ${p.what} already listens (${l.process})`)
          : check('ports', `${p.port}`, 'fail', `in use by ${l.process ?? 'another process'}: the ${p.what} cannot listen`),
    );
  }
  return out;
}

/** The report as printed, and the exit code (1 if anything failed). */
export function render(checks: Check[]): { text: string; code: number } {
  const groups = [...new Set(checks.map((c) => c.group))];
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = groups.flatMap((g, i) => [
    ...(i ? [''] : []),
    `${g}:`,
    ...checks.filter((c) => c.group === g).map((c) => `  ${`[${c.verdict}]`.padEnd(6)} ${c.name.padEnd(width)}  ${c.detail}`),
  ]);
  const fails = checks.filter((c) => c.verdict === 'fail').length;
  const warns = checks.filter((c) => c.verdict === 'warn').length;
  lines.push('', `${checks.length} checks: ${checks.length - fails - warns} ok, ${warns} warnings, ${fails} failed`);
  return { text: `${lines.join('\n')}\n`, code: fails ? 1 : 0 };
}
