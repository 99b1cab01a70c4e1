// IPVS mode against a real kernel as far as this one goes: it has neither IPVS nor dummy links,
// so ipvsadm is replaced by a recorder and kube-ipvs0 is a bridge (it only has to hold addresses),
// while addresses, ipsets and iptables rules are applied for real in a throwaway namespace
// (proving the generated inputs load) and read back.
import test from 'ava';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { makeExec, type Exec } from '../../agents/api/exec.ts';
import { IpvsBackend } from '../../agents/kube-proxy/ipvs/syncer.ts';
import { Testbed } from '../support/proxy-testbed.ts';
import { ChangeTracker } from '../../agents/kube-proxy/tracker.ts';

const bed = new Testbed();
test.after.always(() => bed.destroy());

test('ipvs: kube-ipvs0, ipsets and iptables rules load for real; virtual servers go to ipvsadm in one batch', async (t) => {
  const ns = bed.addNamespace(`kp${bed.id}ipvs`);
  const real = makeExec(ns);
  const ipvsadm: string[] = [];
  const exec: Exec = (cmd, args, input) => {
    if (cmd === 'ip' && args.join(' ') === 'link add kube-ipvs0 type dummy') return real('ip', ['link', 'add', 'kube-ipvs0', 'type', 'bridge']);
    if (cmd !== 'ipvsadm') return real(cmd, args, input);
    if (args[0] === '--restore') ipvsadm.push(input ?? '');
    return Promise.resolve('');
  };
  const tracker = new ChangeTracker('node1');
  const backend = new IpvsBackend(tracker, exec, { nodeIPs: ['192.168.0.2'], scheduler: 'sed', clusterCIDR: '10.244.0.0/16', masqueradeAll: false });
  const svc = (name: string, ip: string, spec: Record<string, unknown> = {}, lbIP?: string): V1Service =>
    ({
      metadata: { namespace: 'default', name },
      spec: { clusterIP: ip, ports: [{ name: 'web', port: 80, protocol: 'TCP' }], ...spec },
      status: lbIP ? { loadBalancer: { ingress: [{ ip: lbIP }] } } : {},
    }) as V1Service;
  const slice = (name: string, ips: string[]): V1EndpointSlice => ({
    addressType: 'IPv4',
    metadata: { namespace: 'default', name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    ports: [{ name: 'web', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], nodeName: 'node1' })),
  });
  tracker.setService('default/web', svc('web', '10.96.0.10', { type: 'NodePort', ports: [{ name: 'web', port: 80, protocol: 'TCP', nodePort: 30080 }] }));
  tracker.setSlice(slice('web', ['10.244.1.2', '10.244.1.3']));
  tracker.setService(
    'default/lb',
    svc(
      'lb',
      '10.96.0.11',
      {
        type: 'LoadBalancer',
        loadBalancerSourceRanges: ['192.168.0.0/24'],
        externalIPs: ['192.168.99.11'],
        ports: [{ name: 'web', port: 80, protocol: 'TCP', nodePort: 30081 }],
      },
      '1.2.3.4',
    ),
  );
  tracker.setSlice(slice('lb', ['10.244.1.4']));
  await backend.sync(true);

  const addrs = bed.sh(ns, 'ip -o -4 addr show dev kube-ipvs0');
  t.regex(addrs, /10\.96\.0\.10\/32/);
  t.regex(addrs, /192\.168\.99\.11\/32/);
  const sets = bed.sh(ns, 'ipset list KUBE-CLUSTER-IP; ipset list KUBE-LOOP-BACK; ipset list KUBE-NODE-PORT-TCP');
  t.regex(sets, /10\.96\.0\.10,tcp:80/);
  t.regex(sets, /10\.244\.1\.2,tcp:8080,10\.244\.1\.2/);
  t.regex(sets, /\n30080\n/);
  const nat = bed.sh(ns, 'iptables-save -t nat');
  t.regex(
    nat,
    /-A KUBE-SERVICES ! -s 10\.244\.0\.0\/16 -m comment --comment "Kubernetes service cluster ip \+ port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ/,
  );
  t.regex(nat, /-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES/);
  t.regex(
    bed.sh(ns, 'iptables-save -t filter'),
    /-A KUBE-PROXY-FIREWALL -m comment --comment "[^"]+" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL/,
  );
  t.is(ipvsadm.length, 1);
  t.true(ipvsadm[0].includes('-A -t 10.96.0.10:80 -s sed\n'));
  t.true(ipvsadm[0].includes('-a -t 192.168.0.2:30080 -r 10.244.1.3:8080 -m -w 1\n'));

  // an endpoint goes, a Service goes: only the difference is applied
  tracker.setSlice(slice('web', ['10.244.1.2']));
  tracker.setService('default/lb', undefined);
  await backend.sync(false);
  t.is(
    ipvsadm[1],
    [
      '-d -t 10.96.0.10:80 -r 10.244.1.3:8080',
      '-d -t 192.168.0.2:30080 -r 10.244.1.3:8080',
      '-D -t 10.96.0.11:80',
      '-D -t 192.168.99.11:80',
      '-D -t 1.2.3.4:80',
      '-D -t 192.168.0.2:30081',
      '',
    ].join('\n'),
  );
  t.notRegex(bed.sh(ns, 'ip -o -4 addr show dev kube-ipvs0'), /192\.168\.99\.11/);
  t.notRegex(bed.sh(ns, 'ipset list KUBE-CLUSTER-IP'), /10\.96\.0\.11/);

  await backend.cleanup();
  t.is(bed.sh(ns, 'iptables-save | grep -c KUBE- || true').trim(), '0');
  t.is(bed.sh(ns, 'ipset list -n | wc -l').trim(), '0');
});
