// Processes per pod, a figure that does not depend on machine load: `node --import=tsx bench/pod-census.ts
// [--pods N]` brings up lab "bench" (10.85.0.0/24; BENCH_LAB_NAME, BENCH_LAB_SUBNET for another), starts one pod on worker1 so the image is
// there, then strace follows (execve and process-creating clones only) the control plane and every
// process of worker1 (kubelet, containerd, CNI daemon, podnet, kube-proxy) and what they spawn while
// N pods start on worker1 and are deleted again; prints the programs run per pod. strace slows
// what it follows, so this is a count, not a timing. Lab taken down at the end.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiClient } from '../agents/api/client.ts';
import { loadKubeconfig } from '../agents/api/kubeconfig.ts';
import { core } from '../agents/api/paths.ts';
import { controlPlaneProc, nodeProc, type NodeComponent } from '../agents/cli/lab/components.ts';
import { labDown } from '../agents/cli/lab/down.ts';
import { pidOf } from '../agents/cli/lab/procs.ts';
import { imageRef, labUp, repoFromBin } from '../agents/cli/lab/up.ts';
import { podObject, started, waitPods } from './pod-objects.ts';

const i = process.argv.indexOf('--pods');
const PODS = i > 0 ? Number(process.argv[i + 1]) : 5;
/** BENCH_LAB_NAME / BENCH_LAB_SUBNET: another lab than the default, as bench/pods.ts takes them */
const LAB = {
  name: process.env.BENCH_LAB_NAME ?? 'bench',
  subnet: process.env.BENCH_LAB_SUBNET ?? '10.85.0.0/24',
  workers: 2,
  stateRoot: '/var/lib/hawser-lab',
};
const bin = resolve(process.env.HAWSER_BIN ?? 'dist/hawser.cjs');
const COMPONENTS: NodeComponent[] = ['kubelet', 'containerd', 'cni-daemon', 'podnet', 'kube-proxy'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Successful execs by program, and processes created, from `strace -f -o` output. */
export function countSpawns(text: string): { execs: Map<string, number>; processes: number } {
  const execs = new Map<string, number>();
  const pendingExec = new Map<string, string>();
  const pendingClone = new Set<string>();
  let processes = 0;
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, rest] = m;
    const ok = / = 0$/.test(rest);
    if (rest.startsWith('execve(')) {
      const prog = /^execve\("([^"]+)"/.exec(rest)?.[1].split('/').pop() ?? '?';
      if (rest.endsWith('<unfinished ...>')) pendingExec.set(pid, prog);
      else if (ok) execs.set(prog, (execs.get(prog) ?? 0) + 1);
    } else if (rest.startsWith('<... execve resumed>')) {
      const prog = pendingExec.get(pid);
      if (prog && ok) execs.set(prog, (execs.get(prog) ?? 0) + 1);
      pendingExec.delete(pid);
    } else if (/^(clone3?|v?fork)\(/.test(rest) && !rest.includes('CLONE_THREAD')) {
      if (rest.endsWith('<unfinished ...>')) pendingClone.add(pid);
      else if (/ = \d+$/.test(rest)) processes++;
    } else if (/^<\.\.\. (clone3?|v?fork) resumed>/.test(rest) && pendingClone.delete(pid) && / = \d+$/.test(rest)) {
      processes++;
    }
  }
  return { execs, processes };
}

async function main(): Promise<void> {
  await labDown(LAB);
  console.log(`bringing up lab "${LAB.name}" (${LAB.workers} workers on ${LAB.subnet})`);
  const lab = await labUp({ ...LAB, bin, repo: process.env.HAWSER_REPO ?? repoFromBin(bin), demo: false, quiet: true });
  const out = `/tmp/hawser-pod-census-${process.pid}.strace`;
  try {
    const api = new ApiClient(loadKubeconfig(lab.adminKubeconfig), 'hawser-census');
    const image = imageRef(lab, 'testapp', '1.0');
    const node = lab.nodes[0];
    await api.create(core('namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'census' } });
    await api.create(core('pods', 'census'), podObject('warm', image, node.name));
    await waitPods(api, 'census', (ps) => ps.some(started), 180_000);
    await api.delete(core('pods', 'census', 'warm'));
    await waitPods(api, 'census', (ps) => ps.length === 0, 60_000);

    const pids = [pidOf(controlPlaneProc(lab, bin).pidFile), ...COMPONENTS.map((c) => pidOf(nodeProc(lab, node, c, bin).pidFile))];
    const strace = spawn(
      'strace',
      ['-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork', '-e', 'signal=none', '-o', out, ...pids.flatMap((p) => ['-p', String(p)])],
      { stdio: 'ignore' },
    );
    const exited = new Promise((r) => strace.on('close', r));
    await sleep(2000);
    const names = Array.from({ length: PODS }, (_, k) => `c${k}`);
    for (const n of names) await api.create(core('pods', 'census'), podObject(n, image, node.name));
    await waitPods(api, 'census', (ps) => ps.filter(started).length === PODS, 300_000);
    for (const n of names) await api.delete(core('pods', 'census', n));
    await waitPods(api, 'census', (ps) => ps.length === 0, 300_000);
    await sleep(2000);
    strace.kill('SIGINT');
    await exited;

    const { execs, processes } = countSpawns(readFileSync(out, 'utf8'));
    const total = [...execs.values()].reduce((a, b) => a + b, 0);
    console.log(`${PODS} pods started and deleted on ${node.name}: programs run (execs), per pod`);
    for (const [prog, n] of [...execs].sort((a, b) => b[1] - a[1]))
      console.log(`  ${prog.padEnd(28)} ${String(n).padStart(5)} ${(n / PODS).toFixed(1).padStart(7)}`);
    console.log(
      `  ${'total'.padEnd(28)} ${String(total).padStart(5)} ${(total / PODS).toFixed(1).padStart(7)}; processes created ${processes} (${(processes / PODS).toFixed(1)} per pod)`,
    );
    console.log(`RESULT pod-startup-execs-per-pod ours=${(total / PODS).toFixed(1)} processes=${(processes / PODS).toFixed(1)}`);
  } finally {
    rmSync(out, { force: true });
    if (!process.env.BENCH_KEEP_LAB) await labDown(LAB);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
