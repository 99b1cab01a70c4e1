// [sig-network] A Deployment behind a ClusterIP Service and a NodePort Service (issue 6's lab
// e2e): the Deployment controller, the scheduler, the endpoints controller and kube-proxy on every
// node all have to work for a client to be answered by pods on both nodes.
import { conformance, internalIP, readyNodes, until, waitReady } from '../conformance/fixture.ts';
import { deployment, service, sleeper } from '../conformance/manifests.ts';
import { clusterIPOf, fromHost, hostnamesFrom, reachable, waitServiceEndpoints } from '../conformance/net.ts';

const it = conformance('net-deploy', { timeoutMs: 240_000 });

it('[sig-network] [hawser] a Deployment behind a ClusterIP and a NodePort Service answers from pods on both nodes', async (t, c) => {
  const labels = { app: 'web' };
  const replicas = 4;
  c.k.create(
    deployment('web', c.env.image, replicas, labels),
    service('web', { selector: labels }),
    service('web-np', { type: 'NodePort', selector: labels }),
    sleeper('execpod', c.env.image),
  );
  c.k.ok(['rollout', 'status', 'deployment/web', '--timeout=120s']);
  await waitReady(c.k, ['execpod']);
  const pods: any[] = c.k.json<any>(['get', 'pods', '-l', 'app=web']).items;
  const nodeOf = new Map(pods.map((p) => [p.metadata.name as string, p.spec.nodeName as string]));
  const nodes = readyNodes(c.kc).map((n) => n.metadata.name as string);
  const used = new Set(nodeOf.values());
  if (nodes.length >= 2 && used.size < 2)
    throw new Error(`the scheduler put all ${replicas} replicas on ${[...used].join(', ')}; ${nodes.length} nodes are Ready`);
  await waitServiceEndpoints(c.k, 'web', replicas);
  await waitServiceEndpoints(c.k, 'web-np', replicas);

  /** Asks `ask` until every replica has answered (bounded), and checks every answer is a replica. */
  const everyReplica = async (what: string, ask: () => Promise<string[]>) => {
    const seen = new Set<string>();
    await until(
      `${what} to be answered by all ${replicas} replicas (so far ${[...seen].join(', ') || 'none'})`,
      async () => {
        for (const a of await ask()) {
          if (!nodeOf.has(a)) throw new Error(`${what} answered "${a}", which is not a replica of the Deployment (${[...nodeOf.keys()].join(', ')})`);
          seen.add(a);
        }
        return seen.size === replicas;
      },
      60_000,
      200,
    );
    t.is(new Set([...seen].map((p) => nodeOf.get(p))).size, used.size, `${what}: answers from pods on ${[...used].join(' and ')}`);
  };

  const ip = clusterIPOf(c, 'web');
  await reachable(c.k, 'execpod', `http://${ip}:80/`);
  await everyReplica(`ClusterIP ${ip}:80`, async () => hostnamesFrom(c.k, 'execpod', `http://${ip}:80/`, 12));
  await everyReplica('the Service name web', async () => hostnamesFrom(c.k, 'execpod', 'http://web/', 12));

  const nodePort = c.k.json<any>(['get', 'service', 'web-np']).spec.ports[0].nodePort as number;
  for (const n of readyNodes(c.kc)) {
    const url = `http://${internalIP(n)}:${nodePort}/`;
    // from outside the nodes when the lab's host sits on their bridge; from a pod otherwise
    const ask = c.env.labDir ? async () => Promise.all(Array.from({ length: 8 }, () => fromHost(url))) : async () => hostnamesFrom(c.k, 'execpod', url, 12);
    await everyReplica(`NodePort ${url}`, ask);
  }
});
