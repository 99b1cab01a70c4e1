// uninstall's kernel teardown in a throwaway network namespace: the agents' chains (and the jumps
// into them), NetworkPolicy ipsets, kube-proxy's and NetworkPolicy's nftables tables, the pod bridge, the VXLAN device and podnet's routes go;
// another program's chain, link and route in the same namespace stay.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { systemEnv } from '../../agents/api/system-path.ts';
import { removeKernelState } from '../../agents/cli/install/teardown.ts';
import type { Exec } from '../../agents/api/exec.ts';

const ns = `hw-td-${Math.random().toString(36).slice(2, 8)}`;
const x = (cmd: string, args: string[], input?: string): string =>
  execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], env: systemEnv() });
const sh = (script: string) => x('sh', ['-c', script]);
const ax: Exec = async (cmd, args, input) => x(cmd, args, input);

test.before(() => {
  execFileSync('ip', ['netns', 'add', ns]);
  sh(`ip link add veth-a type veth peer name veth-b && ip addr add 10.99.0.1/24 dev veth-a && ip link set veth-a up && ip link set veth-b up
      ip link add cni0 type bridge && ip addr add 10.244.0.1/24 dev cni0 && ip link set cni0 up
      ip link add hawser.vxlan type vxlan id 42 dstport 8472 local 10.99.0.1
      ip route add 10.244.1.0/24 via 10.99.0.2 proto 66
      ip route add 10.50.0.0/24 via 10.99.0.2`);
  x('ipset', ['restore'], 'create hnp-0123456789abcdef hash:ip family inet\nadd hnp-0123456789abcdef 10.244.0.5\ncreate other-keep hash:ip family inet\n');
  x(
    'iptables-restore',
    ['--noflush'],
    `*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-ABCDEFGHIJKLMNOP - [0:0]
:HAWSER-POD-MASQ - [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:OTHER-KEEP - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A PREROUTING -j OTHER-KEEP
-A POSTROUTING -m comment --comment "hawser pod masquerade" -j HAWSER-POD-MASQ
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-ABCDEFGHIJKLMNOP
-A KUBE-SVC-ABCDEFGHIJKLMNOP -p tcp -j DNAT --to-destination 10.99.0.2:6443
-A OTHER-KEEP -d 10.50.0.0/24 -j RETURN
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:HAWSER-NETPOL - [0:0]
:HAWSER-NPI-0123456789ABCDEF - [0:0]
-A FORWARD -m comment --comment "hawser network policy" -j HAWSER-NETPOL
-A INPUT -m comment --comment "hawser network policy" -j HAWSER-NETPOL
-A HAWSER-NETPOL -d 10.244.0.5/32 -j HAWSER-NPI-0123456789ABCDEF
-A HAWSER-NPI-0123456789ABCDEF -m set --match-set hnp-0123456789abcdef src -j RETURN
-A HAWSER-NPI-0123456789ABCDEF -j REJECT
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -d 10.50.0.0/24 -j ACCEPT
COMMIT
`,
  );
  x('nft', ['-f', '-'], 'table ip kube-proxy {\n  chain services { }\n}\n');
  x('nft', ['-f', '-'], 'table ip hawser-netpol {\n  chain dispatch { }\n}\n');
});
test.after.always(() => {
  execFileSync('ip', ['netns', 'del', ns]);
});

test.serial('removeKernelState removes what the agents made and keeps what others made', async (t) => {
  const done = await removeKernelState(ax);
  t.log(done.join('; '));
  const rules = x('iptables-save', []);
  t.notRegex(rules, /KUBE-|CNI-|HAWSER-/, rules);
  t.regex(rules, /-A PREROUTING -j OTHER-KEEP/);
  t.regex(rules, /-A OTHER-KEEP -d 10\.50\.0\.0\/24 -j RETURN/);
  t.regex(rules, /-A FORWARD -d 10\.50\.0\.0\/24 -j ACCEPT/);
  t.throws(() => x('nft', ['list', 'table', 'ip', 'kube-proxy']), undefined, 'the nftables table is gone');
  t.throws(() => x('nft', ['list', 'table', 'ip', 'hawser-netpol']), undefined, 'the NetworkPolicy nftables table is gone');
  t.deepEqual(x('ipset', ['list', '-n']).trim().split('\n'), ['other-keep'], 'network policy sets go, others stay');
  const links = x('ip', ['-o', 'link', 'show']);
  t.notRegex(links, /cni0|hawser\.vxlan/);
  t.regex(links, /veth-a/);
  const routes = x('ip', ['-4', 'route', 'show']);
  t.notRegex(routes, /10\.244\.1\.0\/24/);
  t.regex(routes, /10\.50\.0\.0\/24 via 10\.99\.0\.2/);
  t.deepEqual(await removeKernelState(ax), [], 'a second run finds nothing left to do');
});
