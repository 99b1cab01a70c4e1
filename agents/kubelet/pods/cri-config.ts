// Pure translation of a Pod and its containers into CRI PodSandboxConfig and ContainerConfig.
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import * as L from './labels.ts';
import type { DnsConfig } from './resolv.ts';

export interface SandboxContext { podLogRoot: string; cgroupRoot: string; dns: DnsConfig }

export const podLogDir = (root: string, pod: V1Pod): string =>
  `${root}/${pod.metadata!.namespace}_${pod.metadata!.name}_${pod.metadata!.uid}`;

const NS_POD = 0;
const NS_NODE = 2;

export function sandboxConfig(pod: V1Pod, attempt: number, ctx: SandboxContext) {
  const m = pod.metadata!;
  const spec = pod.spec!;
  const hostNetwork = spec.hostNetwork === true;
  const portMappings = hostNetwork ? [] : spec.containers.flatMap((c) => (c.ports ?? [])
    .filter((p) => p.hostPort)
    .map((p) => ({ protocol: protoNum(p.protocol), containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIP ?? '' })));
  return {
    metadata: { name: m.name!, uid: m.uid!, namespace: m.namespace!, attempt },
    hostname: hostNetwork ? '' : (spec.hostname ?? m.name!).slice(0, 63),
    logDirectory: podLogDir(ctx.podLogRoot, pod),
    dnsConfig: ctx.dns,
    portMappings,
    labels: { ...(m.labels ?? {}), [L.POD_NAME]: m.name!, [L.POD_NAMESPACE]: m.namespace!, [L.POD_UID]: m.uid!, [L.MANAGED_BY]: 'true' },
    annotations: { ...(m.annotations ?? {}), [L.TERMINATION_GRACE]: String(spec.terminationGracePeriodSeconds ?? 30) },
    linux: {
      cgroupParent: `${ctx.cgroupRoot}/pod${m.uid}`,
      securityContext: {
        namespaceOptions: { network: hostNetwork ? NS_NODE : NS_POD, pid: spec.hostPID ? NS_NODE : 1, ipc: spec.hostIPC ? NS_NODE : NS_POD },
      },
    },
  };
}

function protoNum(p: string | undefined): number {
  return p === 'UDP' ? 1 : p === 'SCTP' ? 2 : 0;
}

/** A hash of the container spec: a changed spec means the running container is outdated. */
export function containerHash(c: V1Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}

export function containerConfig(pod: V1Pod, c: V1Container, attempt: number) {
  const m = pod.metadata!;
  const env = (c.env ?? []).filter((e) => e.value !== undefined).map((e) => ({ key: e.name, value: e.value! }));
  return {
    metadata: { name: c.name, attempt },
    image: { image: c.image! },
    command: c.command ?? [],
    args: c.args ?? [],
    workingDir: c.workingDir ?? '',
    envs: env,
    labels: { [L.POD_NAME]: m.name!, [L.POD_NAMESPACE]: m.namespace!, [L.POD_UID]: m.uid!, [L.CONTAINER_NAME]: c.name, [L.MANAGED_BY]: 'true' },
    annotations: { [L.CONTAINER_HASH]: containerHash(c), [L.CONTAINER_RESTARTS]: String(attempt) },
    logPath: `${c.name}/${attempt}.log`,
    stdin: c.stdin ?? false,
    stdinOnce: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: { resources: {}, securityContext: { privileged: c.securityContext?.privileged ?? false } },
  };
}
