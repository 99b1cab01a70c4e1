// Starting one container, step by step as upstream's startContainer: make the image present, resolve
// the environment and mounts (missing ConfigMaps and Secrets are CreateContainerConfigError), check
// runAsNonRoot, create and start through CRI, then run the postStart hook (a failing hook kills the
// container). Each failure becomes the container's waiting reason and a Failed event.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { MountPropagation } from '../cri/api-types.ts';
import { ImageError } from '../images/image-manager.ts';
import { runHandler } from '../probes/handlers.ts';
import type { MountedVolume } from '../volumes/volume-manager.ts';
import { containerDir, etcHostsPath } from '../volumes/paths.ts';
import { containerConfig } from './cri-config.ts';
import { decodedSecret, type PodDeps } from './deps.ts';
import { ConfigError, containerEnv, expandCommand } from './env.ts';
import { wantsManagedHosts } from './hosts-file.ts';
import type { Waiting } from './pod-status.ts';
import { rpcDesc } from './runtime-values.ts';
import { verifyRunAsNonRoot } from './security.ts';
import { serviceEnv } from './service-env.ts';

export interface PodRun {
  pod: V1Pod;
  sandboxId: string;
  sandboxConfig: object;
  podIPs: string[];
  volumes: Map<string, MountedVolume>;
  pullSecrets: V1Secret[];
  /** the pod has a kubelet-written /etc/hosts to mount */
  hostsFile: boolean;
  /** running containers of the sandbox by name: an ephemeral container's target is found here */
  runningIds?: Map<string, string>;
}

export type StartResult = { ok: true; id: string } | { ok: false; waiting: Waiting; retryMs: number; id?: string };

const CONFIG_RETRY_MS = 5000;
const CREATE_RETRY_MS = 10_000;

/** The running container an ephemeral container names in targetContainerName (its pid namespace is shared). */
function targetOf(run: PodRun, c: V1Container): string | undefined {
  const target = (run.pod.spec?.ephemeralContainers ?? []).find((e) => e.name === c.name)?.targetContainerName;
  if (!target) return undefined;
  const id = run.runningIds?.get(target);
  if (!id) throw new ConfigError(`target container ${JSON.stringify(target)} is not running`);
  return id;
}

export async function startContainer(d: PodDeps, run: PodRun, c: V1Container, attempt: number): Promise<StartResult> {
  const { pod } = run;
  const ns = pod.metadata!.namespace!;
  const fail = (reason: string, message: string, retryMs: number, id?: string): StartResult => {
    d.events.pod(
      pod,
      c,
      'Warning',
      'Failed',
      `Error: ${reason === 'CreateContainerConfigError' || reason === 'CreateContainerError' || reason === 'RunContainerError' ? message : reason}`,
    );
    return { ok: false, waiting: { reason, message }, retryMs, id };
  };

  let image;
  try {
    image = await d.images.ensure(pod, c, run.sandboxConfig, run.pullSecrets);
  } catch (err) {
    if (err instanceof ImageError) return fail(err.reason, err.message, err.retryMs ?? CREATE_RETRY_MS);
    throw err;
  }

  let config;
  try {
    const { env, invalidNames } = containerEnv(pod, c, {
      configMap: (n, name) => d.objects.configMap(n, name)?.data ?? (d.objects.configMap(n, name) ? {} : undefined),
      secret: (n, name) => decodedSecret(d.objects.secret(n, name)),
      serviceEnv: serviceEnv(pod, d.objects.services()),
      podIPs: run.podIPs,
      hostIPs: [d.ctx.nodeIP],
      allocatable: d.ctx.allocatable(),
    });
    if (invalidNames.length) {
      d.events.pod(
        pod,
        c,
        'Warning',
        'InvalidEnvironmentVariableNames',
        `Keys [${invalidNames.join(', ')}] from the EnvFrom were skipped since they are invalid environment variable names.`,
      );
    }
    verifyRunAsNonRoot(pod, c, image);
    const envMap = new Map(env.map((e) => [e.key, e.value]));
    const mounts = d.volumes.mountsFor(c, run.volumes, envMap);
    if (run.hostsFile && wantsManagedHosts(mounts.map((m) => m.containerPath))) {
      mounts.push({
        containerPath: '/etc/hosts',
        hostPath: etcHostsPath(d.ctx.rootDir, pod.metadata!.uid!),
        readonly: false,
        propagation: MountPropagation.PROPAGATION_PRIVATE,
      });
    }
    const termPath = c.terminationMessagePath ?? '/dev/termination-log';
    if (termPath) {
      const dir = containerDir(d.ctx.rootDir, pod.metadata!.uid!, c.name);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, randomBytes(4).toString('hex'));
      closeSync(openSync(file, 'w'));
      chmodSync(file, 0o666);
      mounts.push({ containerPath: termPath, hostPath: file, readonly: false, propagation: MountPropagation.PROPAGATION_PRIVATE });
    }
    const { command, args } = expandCommand(c, env);
    config = containerConfig(pod, c, attempt, {
      env,
      command,
      args,
      mounts,
      imageRef: image.ref,
      imageUser: image,
      memoryCapacity: d.ctx.memoryCapacity,
      targetId: targetOf(run, c),
    });
  } catch (err) {
    if (err instanceof ConfigError || (err as Error).name === 'VolumeError' || err instanceof Error) {
      return fail('CreateContainerConfigError', (err as Error).message, CONFIG_RETRY_MS);
    }
    throw err;
  }

  let id: string;
  try {
    id = await d.rt.createContainer(run.sandboxId, config, run.sandboxConfig);
  } catch (err) {
    return fail('CreateContainerError', rpcDesc(err), CREATE_RETRY_MS);
  }
  d.events.pod(pod, c, 'Normal', 'Created', `Created container: ${c.name}`);
  try {
    await d.rt.startContainer(id);
  } catch (err) {
    return fail('RunContainerError', rpcDesc(err), 1000, id);
  }
  d.events.pod(pod, c, 'Normal', 'Started', `Started container ${c.name}`);
  d.log.info({ pod: `${ns}/${pod.metadata!.name}`, container: c.name, id: id.slice(0, 12), attempt }, 'container started');

  const post = c.lifecycle?.postStart;
  if (post) {
    const r = await runHandler(pod, c, post, { containerId: id, podIP: run.podIPs[0] ?? '', ports: c.ports ?? [], exec: d.rt.exec.bind(d.rt) }, 0);
    if (!r.ok) {
      d.log.warn({ pod: `${ns}/${pod.metadata!.name}`, container: c.name, err: r.output }, 'postStart hook failed');
      // the message stays out of the event: it may hold secrets
      d.events.pod(pod, c, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
      d.events.pod(pod, c, 'Normal', 'Killing', `FailedPostStartHook`);
      await d.rt.stopContainer(id, pod.spec?.terminationGracePeriodSeconds ?? 30).catch(() => undefined);
      return { ok: false, waiting: { reason: 'PostStartHookError', message: r.output }, retryMs: 1000, id };
    }
  }
  return { ok: true, id };
}
