// The built-in service load balancer's pure rules (controllers/servicelb/rules.ts): the pool, the
// addresses it gives, and which Services it touches.
import test from 'ava';
import type { Obj } from '../../agents/control-plane/apiserver/strategies/types.ts';
import { desiredLoadBalancer, POOL_LABEL, poolIngress } from '../../agents/control-plane/controllers/servicelb/rules.ts';

const node = (name: string, ip: string, o: { ready?: boolean; pool?: string } = {}): Obj => ({
  metadata: { name, labels: o.pool ? { [POOL_LABEL]: o.pool } : {} },
  status: {
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    addresses: [
      { type: 'Hostname', address: name },
      { type: 'InternalIP', address: ip },
    ],
  },
});
const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = { loadBalancer: {} }): Obj => ({ metadata: { name: 's' }, spec, status });

test('every Ready node, sorted; once any node is labelled true, only the labelled ones; false opts a node out', (t) => {
  t.deepEqual(
    poolIngress([node('b', '10.0.0.2'), node('a', '10.0.0.1'), node('c', '10.0.0.3', { ready: false })]).map((i) => i.ip),
    ['10.0.0.1', '10.0.0.2'],
  );
  t.deepEqual(poolIngress([node('a', '10.0.0.1'), node('b', '10.0.0.2', { pool: 'true' })]), [{ ip: '10.0.0.2', ipMode: 'VIP' }]);
  t.deepEqual(
    poolIngress([node('a', '10.0.0.1', { pool: 'false' }), node('b', '10.0.0.2')]).map((i) => i.ip),
    ['10.0.0.2'],
  );
});

test('ours get the ingress (none: an empty status); another class is untouched; a former LoadBalancer is cleared', (t) => {
  const ing = [{ ip: '10.0.0.1', ipMode: 'VIP' as const }];
  t.deepEqual(desiredLoadBalancer(svc({ type: 'LoadBalancer' }), ing), { ingress: ing });
  t.deepEqual(desiredLoadBalancer(svc({ type: 'LoadBalancer' }), []), {});
  t.is(desiredLoadBalancer(svc({ type: 'LoadBalancer', loadBalancerClass: 'x.io/lb' }), ing), undefined);
  t.deepEqual(desiredLoadBalancer(svc({ type: 'ClusterIP' }, { loadBalancer: { ingress: ing } }), ing), {});
  t.is(desiredLoadBalancer(svc({ type: 'ClusterIP' }), ing), undefined);
  // a status another writer set on a Service that never was ours stays (kubectl patch --subresource=status)
  t.is(desiredLoadBalancer(svc({ type: 'ClusterIP' }, { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } }), ing), undefined);
  t.is(desiredLoadBalancer(svc({ type: 'ClusterIP' }, { loadBalancer: { ingress: [{ ip: ing[0].ip }] } }), ing), undefined, 'no ipMode: not ours');
});
