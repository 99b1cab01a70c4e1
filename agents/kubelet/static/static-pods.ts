// Static pods: Pod manifests in the kubelet's manifest directory, run without the API server. As
// upstream's file source, each gets the node's name appended to its own, a UID hashed from the node,
// the file and the manifest (stable across kubelet restarts, new when the manifest changes), the
// config annotations, the API's defaults, and a toleration of every NoExecute taint. Pure.
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { defaultPodSpec } from '../../api/pod-defaults.ts';
import { qosClass } from '../pods/qos.ts';

export const CONFIG_SOURCE = 'kubernetes.io/config.source';
export const CONFIG_HASH = 'kubernetes.io/config.hash';
export const CONFIG_MIRROR = 'kubernetes.io/config.mirror';
export const CONFIG_SEEN = 'kubernetes.io/config.seen';

export const isMirrorPod = (p: V1Pod): boolean => !!p.metadata?.annotations?.[CONFIG_MIRROR];
export const isStaticPod = (p: V1Pod): boolean => p.metadata?.annotations?.[CONFIG_SOURCE] === 'file';

/** Pods in a manifest file: one Pod, or a List/PodList of them (YAML or JSON, several documents allowed). */
export function parseManifest(text: string): V1Pod[] {
  const out: V1Pod[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(doc.errors[0].message);
    const obj = doc.toJS() as { kind?: string; items?: V1Pod[] } | null;
    if (!obj) continue;
    if (obj.kind === 'Pod') out.push(obj as V1Pod);
    else if ((obj.kind === 'List' || obj.kind === 'PodList') && Array.isArray(obj.items)) out.push(...obj.items.filter((i) => i?.kind === 'Pod' || !i?.kind));
    else throw new Error(`expected kind Pod, got ${JSON.stringify(obj.kind)}`);
  }
  return out;
}

export function staticPod(raw: V1Pod, nodeName: string, file: string, seen = new Date().toISOString()): V1Pod {
  if (!raw.metadata?.name) throw new Error('static pod manifest has no metadata.name');
  if (!raw.spec?.containers?.length) throw new Error('static pod manifest has no containers');
  const pod: V1Pod = JSON.parse(JSON.stringify(raw));
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  const m = pod.metadata!;
  m.name = `${m.name}-${nodeName.toLowerCase()}`;
  m.namespace ||= 'default';
  const spec = pod.spec!;
  spec.nodeName = nodeName;
  defaultPodSpec(spec);
  // static pods are not evicted for NoExecute taints: they tolerate them all
  spec.tolerations = [...(spec.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }];
  const uid = createHash('md5').update(`host:${nodeName}`).update(`file:${file}`).update(JSON.stringify(pod)).digest('hex');
  m.uid = uid;
  m.annotations = { ...(m.annotations ?? {}), [CONFIG_HASH]: uid, [CONFIG_SOURCE]: 'file', [CONFIG_SEEN]: seen };
  pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  return pod;
}

/** The mirror pod the kubelet creates in the API so that users see the static pod there. */
export function mirrorPod(staticP: V1Pod, node: { name: string; uid?: string }): V1Pod {
  const m = staticP.metadata!;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      labels: m.labels,
      annotations: { ...m.annotations, [CONFIG_MIRROR]: m.annotations![CONFIG_HASH] },
      ...(node.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }] } : {}),
    },
    spec: staticP.spec,
  };
}
