// The pod and node printers, following kubectl's familiar columns and STATUS logic
// (Pending, ContainerCreating, Init:0/1, Running, Completed, CrashLoopBackOff, Terminating ...).
import type { Obj } from '../strategies/types.ts';
import { AGE_COLUMN, NAME_COLUMN, type TableSpec, age, col, humanDuration } from './table.ts';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: { reason?: string; exitCode?: number; signal?: number } };
  lastState?: { terminated?: { finishedAt?: string } };
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return new Date(b) > new Date(a) ? b : a;
}

function conditionTrue(pod: Obj, type: string): boolean {
  return (pod.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === type && c.status === 'True');
}

/** READY, STATUS and RESTARTS of a pod as kubectl shows them. */
export function podSummary(pod: Obj, now: Date): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? {};
  const st = pod.status ?? {};
  let total = (spec.containers ?? []).length;
  let ready = 0;
  let restarts = 0;
  let lastRestart: string | undefined;
  let reason: string = st.reason || st.phase || '';
  for (const c of st.conditions ?? []) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  const sidecars = new Set<string>(
    (spec.initContainers ?? []).filter((c: { restartPolicy?: string }) => c.restartPolicy === 'Always').map((c: { name: string }) => c.name),
  );
  let initializing = false;
  let sidecarRestarts = 0;
  let sidecarLastRestart: string | undefined;
  const inits: ContainerStatus[] = st.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i];
    restarts += c.restartCount ?? 0;
    lastRestart = latest(lastRestart, c.lastState?.terminated?.finishedAt);
    const sidecar = sidecars.has(c.name);
    if (sidecar) {
      sidecarRestarts += c.restartCount ?? 0;
      sidecarLastRestart = latest(sidecarLastRestart, c.lastState?.terminated?.finishedAt);
      if (c.started) {
        total++;
        if (c.ready) ready++;
      }
    }
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (sidecar && c.started) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode ?? 0}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  if (!initializing || conditionTrue(pod, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = sidecarLastRestart;
    let hasRunning = false;
    const cs: ContainerStatus[] = st.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      lastRestart = latest(lastRestart, c.lastState?.terminated?.finishedAt);
      const t = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode ?? 0}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = conditionTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }
  const terminal = st.phase === 'Succeeded' || st.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && st.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';
  let r = String(restarts);
  if (restarts !== 0 && lastRestart) r = `${restarts} (${humanDuration(now.getTime() - new Date(lastRestart).getTime())} ago)`;
  return { ready: `${ready}/${total}`, status: reason, restarts: r };
}

export const POD_TABLE: TableSpec = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    col('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'NodeName is a request to schedule this pod onto a specific node.', 1),
    col('Nominated Node', 'nominatedNodeName is set when this pod preempts other pods on the node.', 1),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  row(pod, now) {
    const s = podSummary(pod, now);
    const gates: { conditionType: string }[] = pod.spec?.readinessGates ?? [];
    let readinessGates = '<none>';
    if (gates.length) {
      const trueCount = gates.filter((g) => conditionTrue(pod, g.conditionType)).length;
      readinessGates = `${trueCount}/${gates.length}`;
    }
    return [
      pod.metadata.name,
      s.ready,
      s.status,
      s.restarts,
      age(pod.metadata.creationTimestamp, now),
      pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      readinessGates,
    ];
  },
};

function nodeRoles(labels: Record<string, string> = {}): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

export const NODE_TABLE: TableSpec = {
  columns: [
    NAME_COLUMN,
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    AGE_COLUMN,
    col('Version', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    col('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available.', 1),
    col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'Container runtime version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  row(node, now) {
    const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const roles = nodeRoles(node.metadata.labels);
    const addr = (type: string) => (node.status?.addresses ?? []).find((a: { type: string; address: string }) => a.type === type)?.address || '<none>';
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata.name,
      status.join(','),
      roles.length ? roles.join(',') : '<none>',
      age(node.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      addr('InternalIP'),
      addr('ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
};
