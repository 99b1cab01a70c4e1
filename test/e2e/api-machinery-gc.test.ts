// [sig-api-machinery] Garbage collector: dependents follow their owners through ownerReferences.
// The dependency-circle test needs only the garbage collector; the Deployment ones also need the
// Deployment and ReplicaSet controllers to create the dependents in the first place.
import { conformance, sleep, until, type Ctx } from '../conformance/fixture.ts';
import { deployment, sleeper } from '../conformance/manifests.ts';

const it = conformance('gc', { timeoutMs: 180_000 });

const podNames = (pods: any[]) => pods.map((p) => p.metadata.name).sort();

it('[sig-api-machinery] Garbage collector should not be blocked by dependency circle [Conformance]', async (t, c) => {
  c.k.create(sleeper('pod1', c.env.image), sleeper('pod2', c.env.image), sleeper('pod3', c.env.image));
  const uid = (n: string) => c.k.json<any>(['get', 'pod', n]).metadata.uid;
  const own = (child: string, owner: string) =>
    c.k.ok([
      'patch',
      'pod',
      child,
      '--type=merge',
      '-p',
      JSON.stringify({
        metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: owner, uid: uid(owner), controller: true, blockOwnerDeletion: true }] },
      }),
    ]);
  own('pod1', 'pod3');
  own('pod2', 'pod1');
  own('pod3', 'pod2');
  c.k.ok(['delete', 'pod', 'pod1', '--wait=false']);
  let left: string[] = [];
  await until(
    'pod1, pod2 and pod3 to be collected',
    () => {
      left = podNames(c.k.json<any>(['get', 'pods']).items as any[]);
      return left.length === 0;
    },
    90_000,
    1000,
  ).catch(() => {
    throw new Error(`after deleting pod1 of a pod1->pod3->pod2->pod1 ownership circle, still present: ${left.join(', ')} (is a garbage collector running?)`);
  });
  t.pass();
});

/** Waits for the Deployment's ReplicaSet (created by the Deployment controller). */
async function replicaSetOf(c: Ctx, name: string): Promise<any> {
  return until(
    `a ReplicaSet for Deployment ${name}`,
    () => {
      const rss = (c.k.json<any>(['get', 'replicasets']).items as any[]).filter((rs) =>
        rs.metadata.ownerReferences?.some((o: any) => o.kind === 'Deployment' && o.name === name),
      );
      return rss.length === 1 && rss[0];
    },
    60_000,
    1000,
  ).catch((e) => {
    throw new Error(`${(e as Error).message} (is the Deployment controller running?)`);
  });
}

it('[sig-api-machinery] Garbage collector should delete RS created by deployment when not orphaning [Conformance]', async (t, c) => {
  c.k.create(deployment('simpletest.deployment', c.env.image, 2, { app: 'gc-test' }));
  const rs = await replicaSetOf(c, 'simpletest.deployment');
  c.k.ok(['delete', 'deployment', 'simpletest.deployment', '--cascade=background', '--wait=false']);
  await until(
    `ReplicaSet ${rs.metadata.name} and its pods to be collected`,
    () =>
      !c.k.get('replicaset', rs.metadata.name) &&
      (c.k.json<any>(['get', 'pods', '-l', 'app=gc-test']).items as any[]).every((p) => p.metadata.deletionTimestamp),
    90_000,
    1000,
  );
  t.pass();
});

it('[sig-api-machinery] Garbage collector should orphan RS created by deployment when deleteOptions.PropagationPolicy is Orphan [Conformance]', async (t, c) => {
  c.k.create(deployment('simpletest.deployment', c.env.image, 2, { app: 'gc-test' }));
  const rs = await replicaSetOf(c, 'simpletest.deployment');
  c.k.ok(['delete', 'deployment', 'simpletest.deployment', '--cascade=orphan']);
  await until('the Deployment to be gone', () => !c.k.get('deployment', 'simpletest.deployment'), 30_000);
  await sleep(10_000); // upstream waits, then checks the dependents are still there
  const still = c.k.get('replicaset', rs.metadata.name);
  t.truthy(still, 'the ReplicaSet was orphaned, not deleted');
  t.falsy(still.metadata.deletionTimestamp);
  t.falsy(
    (still.metadata.ownerReferences ?? []).some((o: any) => o.kind === 'Deployment'),
    'its ownerReference to the Deployment is removed',
  );
});
