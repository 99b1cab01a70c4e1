// hawser status: the report from gathered facts (pure): units, cluster, certificates, exit code.
import test from 'ava';
import { renderStatus, type StatusFacts } from '../../agents/cli/status/report.ts';

const now = new Date('2026-12-07T00:00:00Z');
const healthy: StatusFacts = {
  hawserVersion: '0.1.0',
  role: 'agent',
  nodeName: 'w1',
  systemd: true,
  now,
  units: [{ unit: 'hawser-kubelet.service', active: 'active', sub: 'running', since: 'Mon 2026-12-07 00:00:00 UTC' }],
  cluster: {
    server: 'https://10.0.0.10:6443',
    version: 'v1.35.0-hawser',
    nodes: [
      { name: 'w1', ready: true },
      { name: 'w2', ready: true },
    ],
    pods: { scope: 'this node', total: 2, running: 1 },
  },
  certs: [{ file: '/etc/hawser/ca.crt', subject: 'CN=hawser-ca', notAfter: new Date('2036-12-01T00:00:00Z') }],
};

test('a healthy agent: its units, the cluster seen from it, its certificates, exit 0', (t) => {
  const r = renderStatus(healthy);
  t.is(r.code, 0);
  t.regex(r.text, /^hawser 0\.1\.0: installed as agent \(node w1\)/);
  t.regex(r.text, /hawser-kubelet\.service +active \(running\) since Mon 2026-12-07/);
  t.regex(r.text, /nodes: 2 of 2 Ready\n  this node: Ready\n  pods on this node: 2 \(1 Running\)/);
  t.regex(r.text, /\/etc\/hawser\/ca\.crt \(CN=hawser-ca\): 2036-12-01, 3647 days left/);
  t.regex(r.text, /no problems\n$/);
});

test('a failed unit, a NotReady node, an unreachable API and a certificate near expiry are each a problem', (t) => {
  const r = renderStatus({
    ...healthy,
    units: [{ unit: 'hawser-kubelet.service', active: 'failed', sub: 'failed' }],
    cluster: {
      ...healthy.cluster!,
      nodes: [
        { name: 'w1', ready: false },
        { name: 'w2', ready: true },
      ],
    },
    certs: [
      { file: 'a.crt', subject: 'CN=a', notAfter: new Date('2026-12-20T00:00:00Z') },
      { file: 'b.crt', subject: 'CN=b', notAfter: new Date('2026-12-01T00:00:00Z') },
    ],
  });
  t.is(r.code, 1);
  t.regex(r.text, /nodes: 1 of 2 Ready \(not Ready: w1\)\n  this node: NotReady/);
  t.regex(r.text, /b\.crt \(CN=b\): 2026-12-01, EXPIRED\n  a\.crt \(CN=a\): 2026-12-20, expires in 13 days: renew it/);
  t.regex(r.text, /4 problem\(s\)\n$/);
  const down = renderStatus({ ...healthy, cluster: { server: 'https://x:6443', error: 'connect ECONNREFUSED' } });
  t.regex(down.text, /cluster: https:\/\/x:6443\n  not reachable: connect ECONNREFUSED/);
  t.is(down.code, 1);
});

test('not installed, or installed where systemd does not run', (t) => {
  t.is(renderStatus({ hawserVersion: '0.1.0', systemd: false, units: [], certs: [], now }).text, 'hawser 0.1.0: not installed on this host\n\nno problems\n');
  t.regex(renderStatus({ ...healthy, systemd: false, units: [], cluster: undefined, certs: [] }).text, /units: systemd is not running here/);
});
