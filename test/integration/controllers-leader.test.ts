// Leader election of the controller set: two API servers share one real etcd (Debian's
// etcd-server, started on loopback by the test), each with a controller manager contending for the
// kube-system/hawser-controller-manager Lease. One leads; the other stays idle; when the
// leader's server dies (every request it makes fails, nothing released) the other takes over
// once the lease runs out, and a Deployment scaled afterwards converges.
import test from 'ava';
import { logger } from '../../agents/api/log.ts';
import { ApiHandler, type ApiRequest } from '../../agents/control-plane/apiserver/handler.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';
import { bootstrap } from '../../agents/control-plane/bootstrap.ts';
import { LoopbackClient } from '../../agents/control-plane/client/loopback.ts';
import { runControllerManager } from '../../agents/control-plane/controllers/leader/controller-set.ts';
import type { Election } from '../../agents/control-plane/controllers/leader/leader.ts';
import { EtcdStore } from '../../agents/control-plane/storage/etcd.ts';
import { etcdAvailable, startEtcd, type EtcdServer } from '../support/etcd-server.ts';
import { until } from './_apiserver-kit.ts';

process.env.HAWSER_LOG_LEVEL ??= 'warn';
const SERVICE_CIDR = '10.96.0.0/12';
const LEASE = { leaseSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.25 };
const admin = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
const controllers = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };

const maybe = etcdAvailable() ? test.serial : test.serial.skip;

maybe('two API servers on one etcd run one controller set; the other takes over when the leader dies', async (t) => {
  const etcd: EtcdServer = await startEtcd();
  const stores = [new EtcdStore({ endpoints: etcd.endpoint }), new EtcdStore({ endpoints: etcd.endpoint })];
  const managers: Election[] = [];
  t.teardown(async () => {
    for (const m of managers) await m.stop().catch(() => undefined);
    for (const s of stores) await s.close().catch(() => undefined);
    await etcd.stop();
  });
  const handlers = stores.map((store) => new ApiHandler({ store, registry: new Registry(), serverAddress: '127.0.0.1:6443', serviceCIDR: SERVICE_CIDR }));
  // server A can "die": from then on every request to it fails, and nothing it holds is released
  let aDead = false;
  const serverA = { handle: (req: ApiRequest) => (aDead ? Promise.reject(new Error('connect ECONNREFUSED')) : handlers[0].handle(req)) } as ApiHandler;
  const api = new LoopbackClient(handlers[1], admin);
  await bootstrap(api, { serviceCIDR: SERVICE_CIDR, advertiseAddress: '127.0.0.1', port: 6443 });
  const holder = async () => (await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/hawser-controller-manager')).spec?.holderIdentity;

  managers.push(runControllerManager(new LoopbackClient(serverA, controllers), logger('cm-a'), { identity: 'cp-a', ...LEASE }));
  await until('cp-a leads', async () => (await holder()) === 'cp-a', 15_000);
  managers.push(runControllerManager(new LoopbackClient(handlers[1], controllers), logger('cm-b'), { identity: 'cp-b', ...LEASE }));

  const deployments = '/apis/apps/v1/namespaces/default/deployments';
  await api.create(deployments, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/app:1' }] } },
    },
  });
  const converged = (n: number) => async () => {
    const d = await api.get(`${deployments}/web`);
    const pods = (await api.list('/api/v1/namespaces/default/pods', { labelSelector: 'app=web' })).items;
    return d.status?.replicas === n && d.status?.updatedReplicas === n && pods.length === n;
  };
  await until('2 replicas', converged(2), 15_000);
  t.is(await holder(), 'cp-a');
  t.true(managers[0].isLeader());
  t.false(managers[1].isLeader(), 'the second controller set stays idle');

  const died = Date.now();
  aDead = true;
  await until('cp-b takes over', async () => (await holder()) === 'cp-b' && managers[1].isLeader(), 20_000);
  const takeover = Date.now() - died;
  t.true(takeover < 20_000, `takeover in ${takeover} ms`);
  t.true(takeover >= LEASE.leaseSeconds * 1000 - 500, `not before the lease ran out (${takeover} ms)`);
  await until('cp-a stepped down', async () => !managers[0].isLeader(), 15_000);
  const lease = await api.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/hawser-controller-manager');
  t.is(lease.spec.leaseTransitions, 1);

  await api.patch(`${deployments}/web`, { spec: { replicas: 4 } });
  await until('4 replicas under the new leader', converged(4), 15_000);
  t.log(`takeover after ${takeover} ms with a ${LEASE.leaseSeconds} s lease`);
});
