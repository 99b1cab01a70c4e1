// IPVS mode as data (this kernel has no IPVS; the Vagrant VMs run it for real): virtual and real
// servers, kube-ipvs0 addresses, ipset entries, and the tool inputs that apply a difference.
import test from 'ava';
import type { V1Service } from '@kubernetes/client-node';
import { servicePorts, type Endpoint } from '../../agents/kube-proxy/model.ts';
import { addressBatch, emptyIpvsState, ipsetRestore, ipvsIptables, ipvsadmRestore, parseIpvsadmSave } from '../../agents/kube-proxy/ipvs/plan.ts';
import { IPSETS, SCHEDULERS, renderIpvs, type IpvsContext, type Scheduler } from '../../agents/kube-proxy/ipvs/render.ts';
import type { PortWithEndpoints } from '../../agents/kube-proxy/tracker.ts';

const ep = (ip: string, o: Partial<Endpoint> = {}): Endpoint => ({ ip, port: 8080, ready: true, serving: true, terminating: false, local: false, ...o });
const ctx: IpvsContext = { nodeIPs: ['192.168.0.2'], scheduler: 'rr' };

function ports(spec: Record<string, unknown>, eps: Endpoint[], status?: Record<string, unknown>, name = 'svc1'): PortWithEndpoints[] {
  const s = {
    metadata: { namespace: 'ns1', name },
    spec: { clusterIP: '10.96.0.10', ports: [{ name: 'p80', port: 80, protocol: 'TCP' }], ...spec },
    status,
  } as V1Service;
  return servicePorts(s).map((p) => ({ svc: p, endpoints: eps }));
}
const entries = (st: ReturnType<typeof renderIpvs>) => Object.fromEntries([...st.ipsets].filter(([, v]) => v.size).map(([k, v]) => [k, [...v].sort()]));

test('ClusterIP: one virtual server bound to kube-ipvs0, masquerading real servers', (t) => {
  const st = renderIpvs(ports({}, [ep('10.244.1.2', { local: true }), ep('10.244.2.2')]), ctx);
  t.deepEqual([...st.addresses], ['10.96.0.10']);
  t.deepEqual(
    [...st.services.values()],
    [
      {
        protocol: 'tcp',
        ip: '10.96.0.10',
        port: 80,
        scheduler: 'rr',
        persistent: 0,
        reals: [
          { ip: '10.244.1.2', port: 8080, weight: 1 },
          { ip: '10.244.2.2', port: 8080, weight: 1 },
        ],
      },
    ],
  );
  t.deepEqual(entries(st), { 'KUBE-CLUSTER-IP': ['10.96.0.10,tcp:80'], 'KUBE-LOOP-BACK': ['10.244.1.2,tcp:8080,10.244.1.2'] });
  t.is(
    ipvsadmRestore(emptyIpvsState(), st),
    '-A -t 10.96.0.10:80 -s rr\n-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1\n-a -t 10.96.0.10:80 -r 10.244.2.2:8080 -m -w 1\n',
  );
});

test('every scheduler, UDP and SCTP flags, ClientIP persistence', (t) => {
  for (const scheduler of SCHEDULERS) {
    const st = renderIpvs(ports({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } }, [ep('10.244.1.2')]), {
      ...ctx,
      scheduler,
    });
    t.is(ipvsadmRestore(emptyIpvsState(), st).split('\n')[0], `-A -t 10.96.0.10:80 -s ${scheduler} -p 600`);
  }
  const udp = renderIpvs(ports({ ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }, [ep('10.244.1.2')]), ctx);
  t.regex(ipvsadmRestore(emptyIpvsState(), udp), /^-A -u 10\.96\.0\.10:53 -s rr\n-a -u 10\.96\.0\.10:53 -r 10\.244\.1\.2:8080 -m -w 1\n$/);
  const sctp = renderIpvs(ports({ type: 'NodePort', ports: [{ name: 's', port: 9, protocol: 'SCTP', nodePort: 30009 }] }, [ep('10.244.1.2')]), ctx);
  t.regex(ipvsadmRestore(emptyIpvsState(), sctp), /^-A --sctp-service 10\.96\.0\.10:9 -s rr\n/);
  t.deepEqual(entries(sctp)['KUBE-NODE-PORT-SCTP-HASH'], ['192.168.0.2,sctp:30009']);
});

test('NodePort, externalIPs, LoadBalancer with Local policy and source ranges', (t) => {
  const st = renderIpvs(
    ports(
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 32000,
        externalIPs: ['192.168.99.11'],
        loadBalancerSourceRanges: ['192.168.0.0/24'],
        ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }],
      },
      [ep('10.244.1.2', { local: true }), ep('10.244.2.2')],
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    ctx,
  );
  t.deepEqual([...st.addresses].sort(), ['1.2.3.4', '10.96.0.10', '192.168.99.11'], 'node IPs are not bound to the dummy');
  const vs = Object.fromEntries([...st.services].map(([k, v]) => [k, v.reals.map((r) => r.ip)]));
  t.deepEqual(vs, {
    'tcp:10.96.0.10:80': ['10.244.1.2', '10.244.2.2'],
    'tcp:192.168.99.11:80': ['10.244.1.2'],
    'tcp:1.2.3.4:80': ['10.244.1.2'],
    'tcp:192.168.0.2:30080': ['10.244.1.2'],
  });
  t.deepEqual(entries(st), {
    'KUBE-LOOP-BACK': ['10.244.1.2,tcp:8080,10.244.1.2'],
    'KUBE-CLUSTER-IP': ['10.96.0.10,tcp:80'],
    'KUBE-EXTERNAL-IP-LOCAL': ['192.168.99.11,tcp:80'],
    'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-LOCAL': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-FW': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-SOURCE-IP': ['1.2.3.4,tcp:80,1.2.3.4'],
    'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['1.2.3.4,tcp:80,192.168.0.0/24'],
    'KUBE-NODE-PORT-TCP': ['30080'],
    'KUBE-NODE-PORT-LOCAL-TCP': ['30080'],
    'KUBE-HEALTH-CHECK-NODE-PORT': ['32000'],
  });
  const cluster = renderIpvs(ports({ externalIPs: ['192.168.99.11'] }, [ep('10.244.2.2')]), ctx);
  t.deepEqual(entries(cluster)['KUBE-EXTERNAL-IP'], ['192.168.99.11,tcp:80']);
});

test('internalTrafficPolicy Local and terminating fallback choose the real servers', (t) => {
  const itp = renderIpvs(ports({ internalTrafficPolicy: 'Local' }, [ep('10.244.1.2', { local: true }), ep('10.244.2.2')]), ctx);
  t.deepEqual(
    [...itp.services.values()][0].reals.map((r) => r.ip),
    ['10.244.1.2'],
  );
  const term = renderIpvs(
    ports({}, [ep('10.244.1.2', { ready: false, terminating: true }), ep('10.244.1.3', { ready: false, serving: false, terminating: true })]),
    ctx,
  );
  t.deepEqual(
    [...term.services.values()][0].reals.map((r) => r.ip),
    ['10.244.1.2'],
  );
  const none = renderIpvs(ports({}, []), ctx);
  t.deepEqual([...none.services.values()][0].reals, [], 'the virtual server stays, with no real server');
});

test('ipvsadm diff: add, edit, remove virtual and real servers', (t) => {
  const a = renderIpvs([...ports({}, [ep('10.244.1.2'), ep('10.244.1.3')]), ...ports({ clusterIP: '10.96.0.11' }, [ep('10.244.1.9')], undefined, 'svc2')], ctx);
  const b = renderIpvs(ports({}, [ep('10.244.1.2'), ep('10.244.1.4')]), { ...ctx, scheduler: 'lc' as Scheduler });
  t.is(
    ipvsadmRestore(a, b),
    ['-E -t 10.96.0.10:80 -s lc', '-a -t 10.96.0.10:80 -r 10.244.1.4:8080 -m -w 1', '-d -t 10.96.0.10:80 -r 10.244.1.3:8080', '-D -t 10.96.0.11:80', ''].join(
      '\n',
    ),
  );
  t.is(ipvsadmRestore(b, b), '');
});

test('ipvsadm -Sn output parses back into the same state', (t) => {
  const st = renderIpvs(
    [
      ...ports({ sessionAffinity: 'ClientIP' }, [ep('10.244.1.2'), ep('10.244.1.3')]),
      ...ports({ clusterIP: '10.96.0.11', ports: [{ name: 'd', port: 53, protocol: 'UDP' }] }, [ep('10.244.1.9')], undefined, 'svc2'),
    ],
    ctx,
  );
  const saved = [
    '-A -t 10.96.0.10:80 -s rr -p 10800',
    '-a -t 10.96.0.10:80 -r 10.244.1.2:8080 -m -w 1',
    '-a -t 10.96.0.10:80 -r 10.244.1.3:8080 -m -w 1',
    '-A -u 10.96.0.11:53 -s rr',
    '-a -u 10.96.0.11:53 -r 10.244.1.9:8080 -m -w 1',
    '',
  ].join('\n');
  t.deepEqual(parseIpvsadmSave(saved), st.services);
  t.is(ipvsadmRestore({ ...emptyIpvsState(), services: parseIpvsadmSave(saved) }, st), '');
});

test('ipset restore creates every set and moves only changed entries', (t) => {
  const a = renderIpvs(ports({}, [ep('10.244.1.2', { local: true })]), ctx);
  const b = renderIpvs(ports({ clusterIP: '10.96.0.12' }, [ep('10.244.1.2', { local: true })]), ctx);
  const text = ipsetRestore(a, b).split('\n');
  t.is(text.filter((l) => l.startsWith('create ')).length, IPSETS.length);
  t.true(text.includes('create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 comment'));
  t.true(text.includes('create KUBE-NODE-PORT-TCP bitmap:port range 0-65535 comment'));
  t.deepEqual(
    text.filter((l) => /^(add|del) /.test(l)),
    ['add KUBE-CLUSTER-IP 10.96.0.12,tcp:80', 'del KUBE-CLUSTER-IP 10.96.0.10,tcp:80'],
  );
  t.is(addressBatch(a.addresses, b.addresses), 'address add 10.96.0.12/32 dev kube-ipvs0\naddress del 10.96.0.10/32 dev kube-ipvs0\n');
});

test('iptables rules of the mode follow which sets are in use', (t) => {
  const empty = ipvsIptables(renderIpvs([], ctx), { clusterCIDR: '10.244.0.0/16', masqueradeAll: false });
  t.false(empty.includes('KUBE-CLUSTER-IP'));
  t.true(empty.includes('-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT'));
  const st = renderIpvs(
    ports({ type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'p80', port: 80, protocol: 'TCP', nodePort: 30080 }] }, [
      ep('10.244.1.2', { local: true }),
    ]),
    ctx,
  );
  const rules = ipvsIptables(st, { clusterCIDR: '10.244.0.0/16', masqueradeAll: false });
  t.true(
    rules.includes(
      '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
    ),
  );
  t.true(
    rules.includes(
      '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
    ),
  );
  const local = rules.indexOf('--match-set KUBE-NODE-PORT-LOCAL-TCP dst -j RETURN');
  const masq = rules.indexOf('--match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ');
  t.true(local > 0 && masq > local, 'Local NodePorts return before the masquerade rule');
  t.true(
    rules.endsWith(
      '-A KUBE-NODE-PORT -m comment --comment "Kubernetes health check node port" -m set --match-set KUBE-HEALTH-CHECK-NODE-PORT dst -j ACCEPT\nCOMMIT\n',
    ),
  );
  const all = ipvsIptables(st, { clusterCIDR: '', masqueradeAll: true });
  t.true(all.includes('--match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ'));
  const noCidr = ipvsIptables(st, { clusterCIDR: '', masqueradeAll: false });
  t.true(noCidr.includes('--match-set KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ'));
});
