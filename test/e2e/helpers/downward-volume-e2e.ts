// The upstream test bodies shared by downwardapi_volume.go and projected_downwardapi.go: the same
// "podinfo" volume (podname plus the container's cpu/memory limits and requests, labels or
// annotations for the update tests) as a downwardAPI volume or a projected volume's one source.
import { randomBytes } from 'node:crypto';
import { bytes, milliCPU } from '../../../agents/api/quantity.ts';
import { kubectlJson } from './node-e2e.ts';
import { containerOutput, fileModeLine, logEventually, mounttest, podOf, type Json, type MountTest, type V } from './volume-e2e.ts';

const CONTAINER = 'client-container';
const res = (path: string, resource: string) => ({ path, resourceFieldRef: { containerName: CONTAINER, resource } });

/** downwardAPIVolumeBasePod's items, plus labels/annotations when the pod has them (applyLabelsAndAnnotationsToDownwardAPIPod). */
function items(o: { itemMode?: number; labels?: boolean; annotations?: boolean }): Json[] {
  return [
    { path: 'podname', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' }, mode: o.itemMode },
    res('cpu_limit', 'limits.cpu'),
    res('cpu_request', 'requests.cpu'),
    res('memory_limit', 'limits.memory'),
    res('memory_request', 'requests.memory'),
    ...(o.labels ? [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] : []),
    ...(o.annotations ? [{ path: 'annotations', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.annotations' } }] : []),
  ];
}

export interface DownwardPod {
  projected: boolean;
  mounttest: MountTest;
  itemMode?: number;
  defaultMode?: number;
  resources?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The test pod, named as upstream names it (prefix + a unique suffix). */
export function downwardPod(v: V, prefix: string, o: DownwardPod): { name: string; json: string } {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  const list = items({
    itemMode: o.itemMode,
    labels: !!o.labels && Object.keys(o.labels).length > 0,
    annotations: !!o.annotations && Object.keys(o.annotations).length > 0,
  });
  const volume = o.projected
    ? { projected: { defaultMode: o.defaultMode, sources: [{ downwardAPI: { items: list } }] } }
    : { downwardAPI: { items: list, defaultMode: o.defaultMode } };
  const resources = o.resources ? { requests: { cpu: '250m', memory: '32Mi' }, limits: { cpu: '1250m', memory: '64Mi' } } : undefined;
  const json = podOf(
    name,
    {
      volumes: [{ name: 'podinfo', ...volume }],
      containers: [
        { name: CONTAINER, image: v.lab.testapp, ...mounttest(o.mounttest), resources, volumeMounts: [{ name: 'podinfo', mountPath: '/etc/podinfo' }] },
      ],
    },
    { labels: o.labels, annotations: o.annotations },
  );
  return { name, json };
}

/** "should provide podname only" */
export async function podname(v: V, projected: boolean): Promise<void> {
  const p = downwardPod(v, 'downwardapi-volume-', { projected, mounttest: { content: ['/etc/podinfo/podname'] } });
  await containerOutput(v, p.json, CONTAINER, [`${p.name}\n`]);
}

/** "should set DefaultMode on files" / "should set mode on item file" */
export async function podnameMode(v: V, projected: boolean, o: { itemMode?: number; defaultMode?: number }): Promise<void> {
  const p = downwardPod(v, 'downwardapi-volume-', { projected, mounttest: { mode: '/etc/podinfo/podname' }, ...o });
  await containerOutput(v, p.json, CONTAINER, [fileModeLine('/etc/podinfo/podname', 0o400)]);
}

/** "should provide container's cpu limit" etc.: limits 1250m/64Mi, requests 250m/32Mi, no divisor. */
export async function containerResource(v: V, projected: boolean, file: string, expected: string): Promise<void> {
  const p = downwardPod(v, 'downwardapi-volume-', { projected, resources: true, mounttest: { content: [`/etc/podinfo/${file}`] } });
  await containerOutput(v, p.json, CONTAINER, [`${expected}\n`]);
}

/**
 * "should provide node allocatable (cpu|memory) as default ... limit if the limit is not set":
 * upstream checks for a digit 1-9; this also checks the value is the node's allocatable.
 */
export async function allocatableDefault(v: V, projected: boolean, file: 'cpu_limit' | 'memory_limit'): Promise<void> {
  const path = `/etc/podinfo/${file}`;
  const p = downwardPod(v, 'downwardapi-volume-', { projected, mounttest: { content: [path] } });
  await containerOutput(v, p.json, CONTAINER, [/[1-9]/]);
  const pod = await v.c.pod(p.name);
  const node = await kubectlJson(v.c.kc, ['get', 'node', pod.spec.nodeName]);
  const alloc = node.status.allocatable as Record<string, string>;
  const want = file === 'cpu_limit' ? String(Math.ceil(milliCPU(alloc.cpu)! / 1000)) : String(bytes(alloc.memory));
  v.t.true((await v.c.ok(['logs', p.name])).includes(`content of file "${path}": ${want}\n`), `the node's allocatable ${file}: ${want}`);
}

/** "should update labels on modification" / "should update annotations on modification" */
export async function updateOnModification(v: V, projected: boolean, what: 'labels' | 'annotations'): Promise<void> {
  const isLabels = what === 'labels';
  const file = `/etc/podinfo/${what}`;
  const p = downwardPod(v, isLabels ? 'labelsupdate' : 'annotationupdate', {
    projected,
    mounttest: { loop: [file, 120] },
    ...(isLabels ? { labels: { key1: 'value1', key2: 'value2' } } : { annotations: { builder: 'bar' } }),
  });
  await v.c.apply(p.json);
  await v.c.waitRunning(p.name, 60_000);
  await logEventually(v, p.name, CONTAINER, isLabels ? 'key1="value1"\n' : 'builder="bar"\n');
  await v.c.ok(isLabels ? ['label', 'pod', p.name, 'key3=value3'] : ['annotate', 'pod', p.name, '--overwrite', 'builder=foo']);
  await logEventually(v, p.name, CONTAINER, isLabels ? 'key3="value3"\n' : 'builder="foo"\n');
}
