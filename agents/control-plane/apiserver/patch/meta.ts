// Strategic-merge metadata: which lists merge by which key (upstream's patchMergeKey and
// patchStrategy struct tags), keyed by client-node model name and JSON field. Lists not named here
// are atomic (replaced whole), as upstream. Field names come from patches: own members only.
import { getOwn } from '../safe-keys.ts';

export interface PatchMeta {
  /** merge key for lists of objects; absent for primitive lists merged as sets */
  key?: string;
  merge: boolean;
  retainKeys: boolean;
}

const m = (key?: string, retainKeys = false): PatchMeta => ({ key, merge: true, retainKeys });

const CONTAINER_LISTS = {
  ports: m('containerPort'),
  env: m('name'),
  volumeMounts: m('mountPath'),
  volumeDevices: m('devicePath'),
};

const TABLE: Record<string, Record<string, PatchMeta>> = {
  V1ObjectMeta: { finalizers: m(), ownerReferences: m('uid') },
  V1PodSpec: {
    volumes: m('name', true),
    initContainers: m('name'),
    containers: m('name'),
    ephemeralContainers: m('name'),
    imagePullSecrets: m('name'),
    hostAliases: m('ip'),
    topologySpreadConstraints: m('topologyKey'),
    resourceClaims: m('name', true),
    schedulingGates: m('name'),
  },
  V1Container: CONTAINER_LISTS,
  V1EphemeralContainer: CONTAINER_LISTS,
  V1PodStatus: { conditions: m('type'), podIPs: m('ip'), hostIPs: m('ip'), resourceClaimStatuses: m('name', true) },
  V1NodeSpec: { podCIDRs: m() },
  V1NodeStatus: { conditions: m('type'), addresses: m('type') },
  V1ServiceSpec: { ports: m('port') },
  V1ServiceStatus: { conditions: m('type') },
  V1ServiceAccount: { secrets: m('name') },
  V1NamespaceStatus: { conditions: m('type') },
  V1DeploymentStatus: { conditions: m('type') },
  V1ReplicaSetStatus: { conditions: m('type') },
};

/** Maps (not lists) whose patches replace unlisted keys ($retainKeys), e.g. a Deployment's strategy. */
const RETAIN_KEYS_MAPS = new Set(['V1DeploymentSpec.strategy']);

export function listPatchMeta(model: string | undefined, field: string): PatchMeta | undefined {
  const lists = model ? getOwn(TABLE, model) : undefined;
  return lists && getOwn(lists, field);
}

export function mapRetainsKeys(model: string | undefined, field: string): boolean {
  return model !== undefined && RETAIN_KEYS_MAPS.has(`${model}.${field}`);
}
