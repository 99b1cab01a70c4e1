// Image pull policy defaults, imagePullSecrets matching, and image garbage collection planning.
import test from 'ava';
import type { V1Secret } from '@kubernetes/client-node';
import { bytesToFree, imagesToRemove, type ImageRecord } from '../../agents/kubelet/images/image-gc.ts';
import { defaultPullPolicy } from '../../agents/api/pod-defaults.ts';
import { goSpan } from '../../agents/kubelet/images/image-manager.ts';
import { credentialsFor, splitImage } from '../../agents/kubelet/images/pull-secrets.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfig = (auths: Record<string, object>, name = 's'): V1Secret => ({
  metadata: { name },
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) },
});

test('default pull policy: Always for :latest or untagged, IfNotPresent otherwise', (t) => {
  t.is(defaultPullPolicy('nginx'), 'Always');
  t.is(defaultPullPolicy('nginx:latest'), 'Always');
  t.is(defaultPullPolicy('localhost:5000/nginx'), 'Always', 'a registry port is not a tag');
  t.is(defaultPullPolicy('localhost:5000/nginx:1.25'), 'IfNotPresent');
  t.is(defaultPullPolicy('nginx@sha256:abcd'), 'IfNotPresent');
  t.is(goSpan(512.4), '512ms');
  t.is(goSpan(1234), '1.234s');
});

test('image references: registry host and repository path as docker normalises them', (t) => {
  t.deepEqual(splitImage('nginx:1.25'), { host: 'docker.io', path: 'library/nginx' });
  t.deepEqual(splitImage('user/app'), { host: 'docker.io', path: 'user/app' });
  t.deepEqual(splitImage('registry.example:5000/team/app:1@sha256:ab'), { host: 'registry.example:5000', path: 'team/app' });
  t.deepEqual(splitImage('localhost/app'), { host: 'localhost', path: 'app' });
});

test('pull secrets: matching registry keys, most specific path first, auth decoded', (t) => {
  const secrets = [
    dockerconfig({ 'registry.example': { auth: b64('alice:pw1') } }, 'a'),
    dockerconfig({ 'https://registry.example/team/': { username: 'bob', password: 'pw2' } }, 'b'),
    dockerconfig({ '*.corp.example': { username: 'carol', password: 'pw3' } }, 'c'),
    dockerconfig({ 'https://index.docker.io/v1/': { username: 'dave', password: 'pw4' } }, 'd'),
    { metadata: { name: 'opaque' }, type: 'Opaque', data: { x: b64('y') } },
  ];
  const users = (img: string) => credentialsFor(img, secrets).map((a) => a.username);
  t.deepEqual(users('registry.example/team/app:1'), ['bob', 'alice']);
  t.deepEqual(users('registry.example/other/app:1'), ['alice']);
  t.deepEqual(users('registry.example:5000/team/app'), [], 'the port must match');
  t.deepEqual(users('eu.corp.example/app'), ['carol']);
  t.deepEqual(users('a.b.corp.example/app'), [], 'a wildcard matches one label');
  t.deepEqual(users('nginx'), ['dave']);
  const a = credentialsFor('registry.example/x', secrets)[0];
  t.like(a, { username: 'alice', password: 'pw1', serverAddress: 'https://registry.example' }, 'containerd wants a URL whose host it compares');
  const legacy: V1Secret = {
    metadata: { name: 'l' },
    type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': b64(JSON.stringify({ 'old.example': { auth: b64('eve:pw5') } })) },
  };
  t.deepEqual(
    credentialsFor('old.example/app', [legacy]).map((x) => x.password),
    ['pw5'],
  );
});

test('image GC: nothing below the high threshold, down to the low threshold above it', (t) => {
  const p = { highPercent: 85, lowPercent: 80, minAgeMs: 0 };
  t.is(bytesToFree(1000, 200, p), 0, '80% used');
  t.is(bytesToFree(1000, 150, p), 50, '85% used: free to 80%');
  t.is(bytesToFree(1000, 10, { ...p, highPercent: 100 }), 0, '100 disables image GC');
});

test('image GC: unused, unpinned, old enough, least recently used first, only as many as needed', (t) => {
  const r = (id: string, size: number, lastUsed: number, extra: Partial<ImageRecord> = {}): ImageRecord => ({
    id,
    size,
    pinned: false,
    firstDetected: 0,
    lastUsed,
    ...extra,
  });
  const records = [r('old', 100, 1), r('older', 100, 0), r('used', 500, 5), r('pause', 50, 0, { pinned: true }), r('young', 100, 0, { firstDetected: 990 })];
  const plan = imagesToRemove(records, new Set(['used']), 150, 1000, 60);
  t.deepEqual(
    plan.remove.map((x) => x.id),
    ['older', 'old'],
  );
  t.is(plan.freed, 200);
  t.deepEqual(
    imagesToRemove(records, new Set(['used']), 10_000, 1000, 60).remove.map((x) => x.id),
    ['older', 'old'],
  );
});
