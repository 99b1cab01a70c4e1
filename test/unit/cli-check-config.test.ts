// hawser check-config: the verdicts from host facts (pure), and the /proc parsers they come from.
import test from 'ava';
import { parseProcRoutes, parseProcTcpListeners } from '../../agents/cli/check/facts.ts';
import { checkConfigOptions } from '../../agents/cli/check/command.ts';
import { evaluate, render, type CheckOptions, type HostFacts } from '../../agents/cli/check/rules.ts';
import { rolePackages } from '../../agents/cli/install/layout.ts';

const good: HostFacts = {
  kernel: 'Linux 6.1.0',
  filesystems: ['ext4', 'overlay', 'tmpfs'],
  ipForward: '1',
  brNetfilter: true,
  modules: ['vxlan', 'overlay', 'br_netfilter'],
  cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] },
  swapDevices: 0,
  iptablesVersion: 'iptables v1.8.9 (nf_tables)',
  commands: ['containerd', 'runc', 'iptables', 'conntrack', 'ipset', 'ip'],
  systemdRunning: true,
  criSocket: true,
  routes: [{ dst: '192.168.56.0/24', dev: 'eth1' }],
  listeners: [],
};
const agent: CheckOptions = { role: 'agent', clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12', podnetBackend: 'vxlan', proxyMode: 'iptables' };
const verdict = (f: HostFacts, o: CheckOptions, name: string) => evaluate(f, o).find((c) => c.name === name);

test('a well-prepared agent host passes every check and exits 0', (t) => {
  const checks = evaluate(good, agent);
  t.deepEqual(
    checks.filter((c) => c.verdict !== 'ok').map((c) => c.name),
    [],
  );
  const r = render(checks);
  t.is(r.code, 0);
  t.regex(r.text, /\[ok\] +iptables +iptables v1\.8\.9 \(nf_tables\): the nf_tables backend/);
  t.regex(r.text, /checks: \d+ ok, 0 warnings, 0 failed/);
});

test('a missing cgroup controller, no overlay filesystem or no iptables fail; what the install fixes only warns', (t) => {
  const bad: HostFacts = {
    ...good,
    cgroup: { version: 2, controllers: ['cpu', 'io'] },
    filesystems: ['ext4'],
    iptablesVersion: '',
    ipForward: '0',
    brNetfilter: false,
    swapDevices: 1,
    commands: ['ip'],
    criSocket: false,
  };
  const checks = evaluate(bad, agent);
  const by = (v: string) => checks.filter((c) => c.verdict === v).map((c) => c.name);
  t.deepEqual(by('fail'), ['cgroup v2 controllers', 'overlay filesystem', 'iptables']);
  t.deepEqual(by('warn'), ['swap', 'br_netfilter', 'ip_forward', 'containerd', 'runc', 'conntrack', 'ipset', 'CRI socket']);
  t.regex(checks.find((c) => c.name === 'cgroup v2 controllers')!.detail, /missing memory, pids/);
  t.is(render(checks).code, 1);
});

test('a host route containing or crossing the pod or service network fails; a node podCIDR route inside it does not', (t) => {
  const routes = [
    { dst: '10.244.1.0/24', dev: 'cni0' },
    { dst: '10.244.2.0/24', dev: 'eth0', via: true },
    { dst: '10.96.0.0/16', dev: 'eth0' },
  ];
  const checks = evaluate({ ...good, routes }, agent);
  t.is(checks.find((c) => c.name === 'cluster CIDR')?.verdict, 'ok');
  const svc = checks.find((c) => c.name === 'service CIDR')!;
  t.is(svc.verdict, 'fail');
  t.regex(svc.detail, /overlaps the host's route\(s\) 10\.96\.0\.0\/16 dev eth0: choose another with --service-cidr/);
  const wide = verdict({ ...good, routes: [{ dst: '10.0.0.0/8', dev: 'eth0' }] }, agent, 'cluster CIDR')!;
  t.is(wide.verdict, 'fail');
  // a LAN directly connected inside the pod network is not a podCIDR of hawser's
  t.regex(
    verdict({ ...good, routes: [{ dst: '10.244.7.0/24', dev: 'eth1' }] }, agent, 'cluster CIDR')!.detail,
    /overlaps the host's route\(s\) 10\.244\.7\.0\/24 dev eth1/,
  );
  t.is(verdict(good, { ...agent, clusterCIDR: '10.0.0.0/8' }, 'cluster and service CIDRs')?.verdict, 'fail');
  t.is(verdict(good, { ...agent, clusterCIDR: 'ten/8' }, 'cluster CIDR')?.detail, '"ten/8" is not a CIDR');
});

test('a port held by another program fails; held by hawser itself is fine', (t) => {
  const taken = evaluate(
    {
      ...good,
      listeners: [
        { port: 10250, process: 'nginx (pid 7)' },
        { port: 10256, process: 'node (pid 9)', hawser: true },
      ],
    },
    agent,
  );
  t.is(taken.find((c) => c.name === '10250')?.verdict, 'fail');
  t.regex(taken.find((c) => c.name === '10250')!.detail, /in use by nginx \(pid 7\): the kubelet cannot listen/);
  t.is(taken.find((c) => c.name === '10256')?.verdict, 'ok');
});

test('ipvs and vxlan are checked only when the settings use them', (t) => {
  t.is(verdict({ ...good, modules: [] }, { ...agent, proxyMode: 'ipvs' }, 'ip_vs')?.verdict, 'fail');
  t.is(verdict({ ...good, modules: [] }, agent, 'vxlan')?.verdict, 'warn');
  t.is(verdict({ ...good, modules: [] }, { ...agent, podnetBackend: 'host-gw' }, 'vxlan'), undefined);
  t.is(verdict(good, agent, 'ip_vs'), undefined);
  // a server checks no node-only things
  t.deepEqual(
    evaluate(good, { ...agent, role: 'server' }).map((c) => c.name),
    ['kernel', 'systemd', 'cgroup v2 controllers', 'cluster CIDR', 'service CIDR', '6443'],
  );
});

test('settings: flags over the installed manifest over the defaults; bad values are refused', (t) => {
  const installed = {
    role: 'server' as const,
    clusterCIDR: '10.50.0.0/16',
    serviceCIDR: '10.60.0.0/16',
    podnetBackend: 'host-gw' as const,
    proxyMode: 'nftables' as const,
    sandboxImage: 'p',
    registryMirrors: {},
  };
  t.like(checkConfigOptions({}, installed), { role: 'server', clusterCIDR: '10.50.0.0/16', proxyMode: 'nftables' });
  t.like(checkConfigOptions({ role: 'agent', serviceCidr: '10.70.0.0/16' }, installed), {
    role: 'agent',
    serviceCIDR: '10.70.0.0/16',
    clusterCIDR: '10.50.0.0/16',
  });
  t.like(checkConfigOptions({}, undefined), { role: 'agent', clusterCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' });
  t.throws(() => checkConfigOptions({ role: 'worker' }, undefined), { message: '--role must be server or agent, not "worker"' });
  t.throws(() => checkConfigOptions({ proxyMode: 'userspace' }, undefined), { message: /--proxy-mode must be/ });
});

test('/proc/net/route and /proc/net/tcp parse as the kernel writes them', (t) => {
  const route = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'cni0\t0001F40A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'eth0\t0002F40A\t0B01A8C0\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0',
  ].join('\n');
  t.deepEqual(parseProcRoutes(route), [
    { dst: '192.168.1.0/24', dev: 'eth0' },
    { dst: '10.244.1.0/24', dev: 'cni0' },
    { dst: '10.244.2.0/24', dev: 'eth0', via: true },
  ]);
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:280A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  t.deepEqual(parseProcTcpListeners(tcp), [{ port: 10250, inode: '31337' }]);
});

test("kube-proxy's mode adds its tool: nft for nftables, ipvsadm for ipvs, to the checks and to what install puts on the host", (t) => {
  const warns = (proxyMode: CheckOptions['proxyMode']) =>
    evaluate(good, { ...agent, proxyMode })
      .filter((c) => c.verdict === 'warn')
      .map((c) => `${c.name}: ${c.detail}`);
  t.deepEqual(warns('iptables'), []);
  t.deepEqual(warns('nftables'), ['nft: not found: `hawser install --role agent` installs it']);
  t.deepEqual(warns('ipvs'), ['ipvsadm: not found: `hawser install --role agent` installs it']);
  t.true(evaluate({ ...good, commands: [...good.commands, 'nft'] }, { ...agent, proxyMode: 'nftables' }).every((c) => c.verdict === 'ok'));
  t.deepEqual(rolePackages('agent', 'iptables'), ['containerd', 'runc', 'iptables', 'conntrack', 'ipset']);
  t.deepEqual(rolePackages('agent', 'nftables'), ['containerd', 'runc', 'iptables', 'conntrack', 'ipset', 'nftables']);
  t.deepEqual(rolePackages('agent', 'ipvs'), ['containerd', 'runc', 'iptables', 'conntrack', 'ipset', 'ipvsadm']);
  t.deepEqual(rolePackages('server', 'nftables'), []);
});
