// The upstream test bodies shared by configmap_volume.go, secrets_volume.go, projected_configmap.go
// and projected_secret.go: the same pod shapes and checks, with the object mounted either as its
// own volume type or as the one source of a projected volume (upstream's projected files are
// copies of the plain ones with that change and their own mount paths).
import { randomBytes } from 'node:crypto';
import { kubectl, kubectlOk } from './node-e2e.ts';
import { containerOutput, fileModeLine, logEventually, mounttest, NON_ROOT_UID, objOf, podOf, secretData, type Json, type V } from './volume-e2e.ts';

export type ObjectKind = 'configMap' | 'secret';
export interface Shape {
  kind: ObjectKind;
  projected: boolean;
}

interface Ref {
  name: string;
  items?: { key: string; path: string; mode?: number }[];
  defaultMode?: number;
  optional?: boolean;
}

/** The volume source for `ref` in the shape under test. */
export function objectVolume(s: Shape, ref: Ref): Json {
  const { name, items, defaultMode, optional } = ref;
  if (s.projected) return { projected: { defaultMode, sources: [{ [s.kind]: { name, items, optional } }] } };
  return s.kind === 'configMap' ? { configMap: { name, items, defaultMode, optional } } : { secret: { secretName: name, items, defaultMode, optional } };
}

/** Where upstream mounts it: /etc/configmap-volume, /etc/projected-secret-volume ... */
export const mountRoot = (s: Shape) => `/etc/${s.projected ? 'projected-' : ''}${s.kind === 'configMap' ? 'configmap' : 'secret'}-volume`;

/** upstream's newConfigMap / secretForTest: data-1..3, secrets' values ending in a newline. */
export function createObject(v: V, s: Shape, name: string, ns = v.c.ns): Promise<void> {
  const data = (n: number[]) => Object.fromEntries(n.map((i) => [`data-${i}`, `value-${i}${s.kind === 'secret' ? '\n' : ''}`]));
  return putObject(v, s, 'create', name, data([1, 2, 3]), ns);
}

const uniq = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export interface Consume {
  asUser?: boolean;
  fsGroup?: number;
  runAsUser?: number;
  defaultMode?: number;
  objectName?: string;
}

/** doConfigMapE2EWithoutMappings / doSecretE2EWithoutMapping and their projected twins. */
export async function consumeWithoutMappings(v: V, s: Shape, o: Consume = {}): Promise<void> {
  const name = o.objectName ?? uniq(`${s.kind.toLowerCase()}-test-volume`);
  await createObject(v, s, name);
  const file = `${mountRoot(s)}/data-1`;
  const runAsUser = o.runAsUser ?? (o.asUser ? NON_ROOT_UID : undefined);
  await containerOutput(
    v,
    podOf('pod-volume', {
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsUser, fsGroup: o.fsGroup },
      volumes: [{ name: 'vol', ...objectVolume(s, { name, defaultMode: o.defaultMode }) }],
      containers: [
        {
          name: 'volume-test',
          image: v.lab.testapp,
          ...mounttest({ content: [file], mode: file }),
          volumeMounts: [{ name: 'vol', mountPath: mountRoot(s), readOnly: true }],
        },
      ],
    }),
    'volume-test',
    [`content of file "${file}": value-1`, fileModeLine(file, o.defaultMode)],
  );
}

/** doConfigMapE2EWithMappings / doSecretE2EWithMapping and their projected twins. */
export async function consumeWithMappings(v: V, s: Shape, o: { asUser?: boolean; itemMode?: number } = {}): Promise<void> {
  const name = uniq(`${s.kind.toLowerCase()}-test-volume-map`);
  await createObject(v, s, name);
  // configMaps map data-2 to path/to/data-2, secrets data-1 to new-path-data-1
  const [key, path] = s.kind === 'configMap' ? ['data-2', 'path/to/data-2'] : ['data-1', 'new-path-data-1'];
  const file = `${mountRoot(s)}/${path}`;
  await containerOutput(
    v,
    podOf('pod-volume-map', {
      terminationGracePeriodSeconds: 1,
      securityContext: { runAsUser: o.asUser ? NON_ROOT_UID : undefined },
      volumes: [{ name: 'vol', ...objectVolume(s, { name, items: [{ key, path, mode: o.itemMode }] }) }],
      containers: [
        {
          name: 'volume-test',
          image: v.lab.testapp,
          ...mounttest({ content: [file], mode: file }),
          volumeMounts: [{ name: 'vol', mountPath: mountRoot(s), readOnly: true }],
        },
      ],
    }),
    'volume-test',
    [`content of file "${file}": ${key.replace('data', 'value')}`, fileModeLine(file, o.itemMode)],
  );
}

/** "should be consumable in multiple volumes in the same pod": one object behind two volumes. */
export async function multipleVolumes(v: V, s: Shape): Promise<void> {
  const name = uniq(`${s.kind.toLowerCase()}-test-volume`);
  await createObject(v, s, name);
  const root = mountRoot(s);
  const file = `${root}/data-1`;
  // upstream checks the mode too for secrets, only the content for configMaps
  await containerOutput(
    v,
    podOf('pod-volumes', {
      volumes: [
        { name: 'vol', ...objectVolume(s, { name }) },
        { name: 'vol-2', ...objectVolume(s, { name }) },
      ],
      containers: [
        {
          name: 'volume-test',
          image: v.lab.testapp,
          ...mounttest({ content: [file, `${root}-2/data-1`], mode: s.kind === 'secret' ? file : undefined }),
          volumeMounts: [
            { name: 'vol', mountPath: root, readOnly: true },
            { name: 'vol-2', mountPath: `${root}-2`, readOnly: true },
          ],
        },
      ],
    }),
    'volume-test',
    [`content of file "${file}": value-1`, `content of file "${root}-2/data-1": value-1`, ...(s.kind === 'secret' ? [fileModeLine(file)] : [])],
  );
}

/** Creates or replaces (as upstream's Update: data-1 dropped, data-3 added) an object with exactly `data`. */
async function putObject(v: V, s: Shape, verb: 'create' | 'replace', name: string, data: Record<string, string>, ns = v.c.ns): Promise<void> {
  const body = s.kind === 'configMap' ? objOf('ConfigMap', name, { data }) : objOf('Secret', name, { data: secretData(data) });
  await kubectlOk(v.c.kc, ['-n', ns, verb, '-f', '-'], body);
}

/**
 * "optional updates should be reflected in volume": three optional volumes whose objects are
 * deleted, updated (data-1 gone, data-3 new) and created while the pod runs; each container reads
 * its file once a second and must see the change.
 */
export async function optionalUpdates(v: V, s: Shape): Promise<void> {
  const short = s.kind === 'configMap' ? 'cm' : 's';
  const root = `${mountRoot(s)}s`;
  const one = { 'data-1': 'value-1' };
  const names = { delete: uniq(`${short}-test-opt-del`), update: uniq(`${short}-test-opt-upd`), create: uniq(`${short}-test-opt-create`) };
  for (const n of [names.delete, names.update]) await putObject(v, s, 'create', n, one);
  const files = { delete: `${root}/delete/data-1`, update: `${root}/update/data-3`, create: `${root}/create/data-1` };
  const secs = 180;
  await v.c.apply(
    podOf('pod-optional', {
      volumes: (['delete', 'update', 'create'] as const).map((k) => ({ name: `${k}-volume`, ...objectVolume(s, { name: names[k], optional: true }) })),
      containers: (['delete', 'update', 'create'] as const).map((k) => ({
        name: `${k}-volume-test`,
        image: v.lab.testapp,
        ...mounttest({ loop: [files[k], secs] }),
        volumeMounts: [{ name: `${k}-volume`, mountPath: `${root}/${k}`, readOnly: true }],
      })),
    }),
  );
  await v.c.waitRunning('pod-optional', 60_000);
  await logEventually(v, 'pod-optional', 'create-volume-test', `Error reading file ${files.create}`);
  await logEventually(v, 'pod-optional', 'update-volume-test', `Error reading file ${files.update}`);
  await logEventually(v, 'pod-optional', 'delete-volume-test', 'value-1');
  await v.c.ok(['delete', s.kind === 'configMap' ? 'configmap' : 'secret', names.delete]);
  await putObject(v, s, 'replace', names.update, { 'data-3': 'value-3' });
  await putObject(v, s, 'create', names.create, one);
  const began = Date.now();
  await logEventually(v, 'pod-optional', 'create-volume-test', 'value-1');
  await logEventually(v, 'pod-optional', 'update-volume-test', 'value-3');
  await logEventually(v, 'pod-optional', 'delete-volume-test', `Error reading file ${files.delete}`);
  v.t.log(`all three changes seen within ${Date.now() - began} ms`);
}

/** "updates should be reflected in volume": data-1 changes from value-1 to value-2 under a running pod. */
export async function updates(v: V, s: Shape): Promise<void> {
  const name = uniq(`${s.kind.toLowerCase()}-test-upd`);
  const root = mountRoot(s);
  await putObject(v, s, 'create', name, { 'data-1': 'value-1' });
  await v.c.apply(
    podOf('pod-update', {
      volumes: [{ name: 'vol', ...objectVolume(s, { name }) }],
      containers: [
        {
          name: 'volume-test',
          image: v.lab.testapp,
          ...mounttest({ loop: [`${root}/data-1`, 180] }),
          volumeMounts: [{ name: 'vol', mountPath: root, readOnly: true }],
        },
      ],
    }),
  );
  await v.c.waitRunning('pod-update', 60_000);
  await logEventually(v, 'pod-update', 'volume-test', 'value-1');
  await putObject(v, s, 'replace', name, { 'data-1': 'value-2' });
  await logEventually(v, 'pod-update', 'volume-test', 'value-2');
}

/** A second namespace for one test, deleted when it ends. */
export async function otherNamespace(v: V, prefix: string): Promise<string> {
  const ns = uniq(prefix);
  await kubectlOk(v.c.kc, ['create', 'namespace', ns]);
  v.t.teardown(async () => {
    await kubectl(v.c.kc, ['delete', 'namespace', ns, '--wait=false']);
  });
  return ns;
}
