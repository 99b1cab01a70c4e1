// Volume payloads (configMap, secret, downwardAPI, projected), /etc/hosts, termination messages.
import test from 'ava';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { hostsFile, wantsManagedHosts } from '../../agents/kubelet/pods/hosts-file.ts';
import { logText, tail } from '../../agents/kubelet/pods/termination-message.ts';
import {
  checkRelative,
  configMapPayload,
  downwardAPIPayload,
  projectedPayload,
  secretPayload,
  VolumeError,
  type ObjectLookups,
} from '../../agents/kubelet/volumes/payload.ts';
import { mountsUnder } from '../../agents/kubelet/volumes/volume-manager.ts';

const cm: V1ConfigMap = {
  metadata: { name: 'cfg', namespace: 'ns' },
  data: { a: 'A', 'b.txt': 'B' },
  binaryData: { bin: Buffer.from([0, 1, 2]).toString('base64') },
};
const sec: V1Secret = { metadata: { name: 'sec', namespace: 'ns' }, data: { user: Buffer.from('admin').toString('base64') } };
const l: ObjectLookups = {
  configMap: (ns, name) => (ns === 'ns' && name === 'cfg' ? cm : undefined),
  secret: (ns, name) => (ns === 'ns' && name === 'sec' ? sec : undefined),
};
const text = (p: Map<string, { data: Buffer; mode: number }>) =>
  Object.fromEntries([...p].map(([k, v]) => [k, `${v.data.toString('latin1')}|${v.mode.toString(8)}`]));

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', labels: { b: '2', a: '1' }, annotations: { 'x/y': 'say "hi"' } },
  spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '64Mi' } } }] },
};
const ctx = { podIPs: ['10.244.0.5'], hostIPs: ['10.0.0.1'], allocatable: { cpuMillis: 2000, memoryBytes: 1 << 30, ephemeralStorageBytes: 1 << 30 } };

test('configMap volumes: every key (data and binaryData) or the selected items, with modes', (t) => {
  t.deepEqual(text(configMapPayload('ns', { name: 'cfg' }, l, 0o644)), { a: 'A|644', 'b.txt': 'B|644', bin: '\u0000\u0001\u0002|644' });
  t.deepEqual(text(configMapPayload('ns', { name: 'cfg', items: [{ key: 'a', path: 'dir/renamed', mode: 0o400 }] }, l, 0o644)), { 'dir/renamed': 'A|400' });
});

test('missing objects and keys: FailedMount messages, or an empty volume when optional', (t) => {
  t.throws(() => configMapPayload('ns', { name: 'nope' }, l, 0o644), { instanceOf: VolumeError, message: 'configmap "nope" not found' });
  t.throws(() => configMapPayload('ns', { name: 'cfg', items: [{ key: 'zz', path: 'z' }] }, l, 0o644), {
    message: 'configmap references non-existent config key: zz',
  });
  t.is(configMapPayload('ns', { name: 'nope', optional: true }, l, 0o644).size, 0);
  t.throws(() => secretPayload('ns', { secretName: 'nope' }, l, 0o644), { message: 'secret "nope" not found' });
  t.deepEqual(text(secretPayload('ns', { secretName: 'sec' }, l, 0o400)), { user: 'admin|400' });
});

test('downwardAPI: fields, sorted label lines, resources with divisors', (t) => {
  const p = downwardAPIPayload(
    pod,
    [
      { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
      { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
      { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } },
    ],
    0o644,
    ctx,
  );
  t.deepEqual(text(p), { name: 'web|644', labels: 'a="1"\nb="2"|644', annotations: 'x/y="say \\"hi\\""|644', mem: '64|644' });
});

test('projected volumes merge their sources and refuse clashing paths', (t) => {
  const p = projectedPayload(
    pod,
    {
      defaultMode: 0o440,
      sources: [
        { configMap: { name: 'cfg', items: [{ key: 'a', path: 'a' }] } },
        { secret: { name: 'sec' } },
        { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
    l,
    ctx,
  );
  t.deepEqual(text(p), { a: 'A|440', user: 'admin|440', ns: 'ns|440' });
  t.throws(() => projectedPayload(pod, { sources: [{ configMap: { name: 'cfg' } }, { configMap: { name: 'cfg' } }] }, l, ctx), {
    message: /conflicting paths: a/,
  });
});

test('volume paths must stay inside the volume', (t) => {
  for (const bad of ['/abs', '../up', 'a/../../b', '..data/x', '']) t.throws(() => checkRelative(bad), { instanceOf: VolumeError }, bad);
  t.notThrows(() => checkRelative('dir/file.txt'));
});

test("/etc/hosts: managed header, the pod's FQDN with a subdomain, host aliases; hostNetwork gets the node's", (t) => {
  const p: V1Pod = {
    metadata: { name: 'web-0', namespace: 'team' },
    spec: { containers: [], hostname: 'web', subdomain: 'svc1', hostAliases: [{ ip: '1.2.3.4', hostnames: ['foo.local', 'bar.local'] }] },
  };
  const h = hostsFile(p, ['10.244.1.7'], 'cluster.local', '');
  t.true(h.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n'));
  t.regex(h, /\n10\.244\.1\.7\tweb\.svc1\.team\.svc\.cluster\.local\tweb\n/);
  t.regex(h, /# Entries added by HostAliases\.\n1\.2\.3\.4\tfoo\.local\tbar\.local\n$/);
  const hn = hostsFile(
    { ...p, spec: { ...p.spec!, hostNetwork: true, hostAliases: [] } },
    ['10.0.0.1'],
    'cluster.local',
    '127.0.0.1 localhost\n10.0.0.1 node1',
  );
  t.is(hn, '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n10.0.0.1 node1\n');
  t.false(wantsManagedHosts(['/data', '/etc/hosts/']));
  t.true(wantsManagedHosts(['/etc/hostname']));
});

test('termination message fallback reads CRI log lines and keeps the tail', (t) => {
  const raw = '2026-01-01T00:00:00Z stdout F line one\n2026-01-01T00:00:00Z stderr P part\n2026-01-01T00:00:01Z stderr F ial\nnot a log line\n';
  t.is(logText(raw), 'line one\npartial\n');
  t.is(tail('a\nb\nc\n', 2, 100), 'b\nc\n');
  t.is(tail('abcdef', 10, 3), 'def');
});

test('mount table: mounts under a directory, deepest first, octal escapes decoded', (t) => {
  const info = [
    '36 25 0:32 / /var/lib/k/pods/u/volumes/kubernetes.io~empty-dir/m rw - tmpfs tmpfs rw',
    '37 25 0:33 / /var/lib/k/pods/u/volumes/kubernetes.io~secret/s\\040x rw - tmpfs tmpfs rw',
    '38 25 0:34 / /var/lib/k/pods/uu rw - tmpfs tmpfs rw',
    '39 36 0:35 / /var/lib/k/pods/u/volumes/kubernetes.io~empty-dir/m/inner rw - tmpfs tmpfs rw',
  ].join('\n');
  t.deepEqual(mountsUnder('/var/lib/k/pods/u', info), [
    '/var/lib/k/pods/u/volumes/kubernetes.io~empty-dir/m/inner',
    '/var/lib/k/pods/u/volumes/kubernetes.io~empty-dir/m',
    '/var/lib/k/pods/u/volumes/kubernetes.io~secret/s x',
  ]);
});
