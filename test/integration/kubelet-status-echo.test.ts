// The kubelet's own status, read back from a real API server, is recognised as its own (issue #26).
// The API server merges a status PATCH into the stored status, so the keys come back in the stored
// order (phase and qosClass first, from the create), not in the order the kubelet sent them; when
// the writer compared them in sent order, the watch echo of every pod's Running status counted as
// a change made by someone else and started one more sync of the pod.
import test from 'ava';
import type { V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { logger } from '../../agents/api/log.ts';
import { core } from '../../agents/api/paths.ts';
import { statusEcho } from '../../agents/kubelet/pod-sources.ts';
import { podStatus } from '../../agents/kubelet/pods/pod-status.ts';
import { StatusWriter } from '../../agents/kubelet/pods/status-writer.ts';
import { fileCluster } from './_file-cluster.ts';

let api: ApiClient;
fileCluster((c) => {
  api = new ApiClient(loadKubeconfig(c.admin), 'kubelet-status-echo-test');
});

test("the Running status the kubelet wrote, as the API server stores it, is the writer's own and no change to sync for", async (t) => {
  const created = await api.create<V1Pod>(core('pods', 'default'), {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'echo' },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'img:1' }] },
  });
  const writer = new StatusWriter(
    async (pod, status) => {
      await api.patch(core('pods', 'default', pod.metadata!.name, 'status'), { status }, 'merge');
      return true;
    },
    logger('test', 'silent'),
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const running = podStatus(
    created,
    {
      sandboxReady: true,
      podIP: '10.244.0.5',
      containers: new Map([['c', { id: 'abc', state: 'CONTAINER_RUNNING', attempt: 0, startedAt: now, image: 'img:1', imageRef: 'img@sha256:1' }]]),
      previous: new Map(),
      waiting: new Map(),
    },
    '10.0.0.1',
    now,
  );
  writer.submit(created, running);
  await writer.flush(created.metadata!.uid!);

  const stored = await api.get<V1Pod>(core('pods', 'default', 'echo'));
  t.is(stored.status?.phase, 'Running');
  t.true(writer.wrote(created.metadata!.uid!, stored.status), 'the stored status is the one written');
  t.true(statusEcho(stored, created, writer.wrote(created.metadata!.uid!, stored.status)), 'its watch event needs no sync');
});
