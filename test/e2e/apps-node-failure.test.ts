// Node failure on a running lab: stopping one node's kubelet makes that node NotReady once the
// control plane's grace period has passed, and the pods of a Deployment there (tolerating the
// unreachable taint for 5 s only) are replaced on the other node. The kubelet is started again
// afterwards from the lab's own process description.
// Needs HAWSER_E2E_KUBECONFIG (a lab's admin kubeconfig, in <stateRoot>/<lab>/server/) and a
// lab with at least two workers; skipped otherwise. HAWSER_E2E_GRACE_S is the control plane's
// node monitor grace period (default 50).
import test from 'ava';
import { basename, dirname, resolve } from 'node:path';
import { nodeProc } from '../../agents/cli/lab/components.ts';
import { savedOptions } from '../../agents/cli/lab/down.ts';
import { startProc, stopProc, waitFor } from '../../agents/cli/lab/procs.ts';
import { REGISTRY_HOST, topology } from '../../agents/cli/lab/topology.ts';
import { kubectlJson, kubectlOk } from '../helpers/kubectl.ts';

const kc = process.env.HAWSER_E2E_KUBECONFIG ?? '';
const labDir = kc ? dirname(dirname(kc)) : '';
const opts = kc ? savedOptions(dirname(labDir), basename(labDir)) : undefined;
const e2e = opts && opts.workers >= 2 ? test.serial : test.serial.skip;
const GRACE_S = Number(process.env.HAWSER_E2E_GRACE_S ?? 50);
const ns = `nodefail-e2e-${Math.random().toString(36).slice(2, 7)}`;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = Record<string, any>;

/** Polls a synchronous check (kubectl calls) until it holds. */
const until = <T>(what: string, fn: () => T | undefined | false, ms = 120_000) => waitFor(what, async () => fn(), ms, 1000);

const readyCondition = (n: Loose) => n.status.conditions.find((c: Loose) => c.type === 'Ready')?.status;
const isReady = (p: Loose) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: Loose) => c.type === 'Ready' && c.status === 'True');

e2e('[sig-apps] [hawser] a node whose kubelet stops turns NotReady after the grace period and its pods are replaced on the other node', async (t) => {
  const lab = topology(opts!);
  const bin = resolve('dist/hawser.cjs');
  kubectlOk(kc, ['create', 'namespace', ns]);
  let stopped: ReturnType<typeof nodeProc> | undefined;
  t.teardown(async () => {
    if (stopped) startProc(stopped);
    kubectlOk(kc, ['delete', 'namespace', ns, '--wait=false']);
  });
  kubectlOk(
    kc,
    ['apply', '-f', '-'],
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: spread, namespace: ${ns}}
spec:
  replicas: 4
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 2
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      containers: [{name: web, image: ${REGISTRY_HOST}/testapp:1.0}]
`,
  );
  kubectlOk(kc, ['rollout', 'status', 'deployment/spread', '-n', ns, '--timeout=180s']);
  const before: Loose[] = kubectlJson(kc, ['get', 'pods', '-n', ns]).items;
  const victim = lab.nodes.find((n) => before.some((p) => p.spec.nodeName === n.name))!;
  const onVictim = before.filter((p) => p.spec.nodeName === victim.name).map((p) => p.metadata.name);
  stopped = nodeProc(lab, victim, 'kubelet', bin);
  const at = Date.now();
  await stopProc(stopped.pidFile);
  await until('NotReady', () => readyCondition(kubectlJson(kc, ['get', 'node', victim.name])) === 'Unknown', (GRACE_S + 30) * 1000);
  const notReadyAfter = (Date.now() - at) / 1000;
  t.true(notReadyAfter >= GRACE_S - 11, `NotReady after ${notReadyAfter.toFixed(0)} s (grace ${GRACE_S} s, lease renewed every 10 s)`);
  const taints = kubectlJson(kc, ['get', 'node', victim.name])
    .spec.taints.map((x: Loose) => `${x.key}:${x.effect}`)
    .sort();
  t.deepEqual(taints, ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  let seen = '';
  await until(
    'replaced on the other nodes',
    () => {
      const ps: Loose[] = kubectlJson(kc, ['get', 'pods', '-n', ns]).items;
      seen = ps
        .map(
          (p) =>
            `${p.metadata.name}@${p.spec.nodeName ?? '-'}:${p.status?.phase}${isReady(p) ? ',ready' : ''}${p.metadata.deletionTimestamp ? ',deleting' : ''}`,
        )
        .join(' ');
      const ready = ps.filter(isReady);
      return (
        ready.length === 4 &&
        ready.every((p) => p.spec.nodeName !== victim.name) &&
        onVictim.every((n) => ps.find((p) => p.metadata.name === n)?.metadata.deletionTimestamp)
      );
    },
    120_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; victim ${victim.name}, pods then: ${seen}`);
  });
  startProc(stopped);
  stopped = undefined;
  await until('Ready again', () => readyCondition(kubectlJson(kc, ['get', 'node', victim.name])) === 'True', 120_000);
});
