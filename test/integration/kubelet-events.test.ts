// The kubelet's event recorder against a real API server: repeats of one event fold into its count,
// and events about one object stop after upstream's spam-filter burst of 25 (then one per five
// minutes), while another object's events still go through.
import test from 'ava';
import type { CoreV1Event, CoreV1EventList, V1Pod } from '@kubernetes/client-node';
import { ApiClient } from '../../agents/api/client.ts';
import { loadKubeconfig } from '../../agents/api/kubeconfig.ts';
import { logger } from '../../agents/api/log.ts';
import { EventRecorder } from '../../agents/kubelet/pods/events.ts';
import { fileCluster } from './_file-cluster.ts';

let api: ApiClient;
fileCluster((c) => {
  api = new ApiClient(loadKubeconfig(c.admin), 'kubelet-events-test');
});

const pod = (name: string): V1Pod => ({ metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [{ name: 'c' }] } });
const eventsAbout = async (name: string): Promise<CoreV1Event[]> =>
  (await api.get<CoreV1EventList>('/api/v1/namespaces/default/events', { fieldSelector: `involvedObject.name=${name}` })).items;

test('a repeated event is one object with a count; one object gets at most 25 writes in a burst, another still gets its own', async (t) => {
  const rec = new EventRecorder(api, 'node-a', logger('test', 'silent'));
  for (let i = 0; i < 3; i++) rec.pod(pod('repeat'), 'c', 'Warning', 'BackOff', 'Back-off restarting failed container c');
  await rec.flush();
  const repeat = await eventsAbout('repeat');
  t.is(repeat.length, 1);
  t.like(repeat[0], { count: 3, reason: 'BackOff', source: { component: 'kubelet', host: 'node-a' } });

  // 40 different messages about one pod within a moment: creates and count patches share the bucket
  for (let i = 0; i < 40; i++) rec.pod(pod('noisy'), 'c', 'Warning', `Reason${i}`, `message ${i}`);
  rec.pod(pod('quiet'), 'c', 'Normal', 'Pulled', 'image pulled');
  await rec.flush();
  t.is((await eventsAbout('noisy')).length, 25, 'the spam filter passes a burst of 25 about one object');
  t.is((await eventsAbout('quiet')).length, 1, "another object's event is not held back");
});
