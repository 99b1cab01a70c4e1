// Node agents' memory, one process against three: `node --import=tsx bench/agent-rss.ts [--pods N]`
// (make bench-agent-rss). On the machine lab (real systemd, the release installed), agent1 runs
// the default `hawser agent` unit and agent2 the three units of `--separate-units`; N pods
// (default 30) are pinned to each. Prints each agent machine's total RSS of hawser's processes,
// idle and with the pods Running, and their ratio. The anchor is k3s's documented agent
// RSS of about 275 MB (target for hawser's node agents: at most 150 MB with 30 pods); k3s cannot
// run here, so the same-run comparison is hawser's own two layouts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { defaultRelease } from '../agents/cli/machines/cli.ts';
import { machinesDown } from '../agents/cli/machines/down.ts';
import { machineRun } from '../agents/cli/machines/nspawn.ts';
import { machineLab, type Machine } from '../agents/cli/machines/topology.ts';
import { machinesUp } from '../agents/cli/machines/up.ts';

const REPO = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const KUBECTL = `${REPO}/.build/bin/kubectl`;
const i = process.argv.indexOf('--pods');
const PODS = Number(i > 0 ? process.argv[i + 1] : (process.env.BENCH_AGENT_PODS ?? 30));
if (!Number.isInteger(PODS) || PODS < 1 || PODS > 100) throw new Error('--pods wants 1..100');
const lab = machineLab();
const [, agent1, agent2] = lab.machines;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const kubectl = async (args: string[], input?: string) => {
  const p = promisify(execFile)(KUBECTL, args, { env: { ...process.env, KUBECONFIG: lab.adminKubeconfig }, timeout: 120_000 });
  if (input !== undefined) {
    p.child.stdin?.end(input);
  }
  return (await p).stdout;
};

/** Sum of RSS (MiB) of the machine's hawser processes (node running hawser.cjs), and their count. */
async function agentRss(m: Machine): Promise<{ mib: number; procs: number }> {
  const out = await machineRun(m, ['ps', '-eo', 'rss=,args=']);
  const rows = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => / \S*hawser\.cjs (agent|kubelet|podnet|kube-proxy) /.test(` ${l.slice(l.indexOf(' ') + 1)} `));
  return { mib: rows.reduce((n, l) => n + Number(l.split(/\s+/)[0]), 0) / 1024, procs: rows.length };
}

const deployment = (name: string, node: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: default}
spec:
  replicas: ${PODS}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      nodeSelector: {kubernetes.io/hostname: ${node}}
      terminationGracePeriodSeconds: 1
      containers: [{name: web, image: ${lab.registryHost}/testapp:1.0}]
`;

async function main(): Promise<void> {
  const load = (await import('node:os')).loadavg()[0].toFixed(2);
  console.log(`# bench agent-rss: ${PODS} pods per agent machine; load average at start ${load}`);
  const up = await machinesUp({ repo: REPO, release: defaultRelease(REPO), log: (l) => console.log(`# ${l}`) });
  void up;
  try {
    await sleep(20_000); // settle after registration
    const idle = [await agentRss(agent1), await agentRss(agent2)];
    for (const [m, n] of [
      [agent1, 'one'],
      [agent2, 'three'],
    ] as const)
      await kubectl(['apply', '-f', '-'], deployment(`rss-${n}`, m.name));
    const deadline = Date.now() + 15 * 60_000;
    for (;;) {
      const running = (await kubectl(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}']))
        .split('\n')
        .filter((p) => p === 'Running').length;
      if (running >= 2 * PODS) break;
      if (Date.now() > deadline) throw new Error(`only ${running} of ${2 * PODS} pods Running after 15 min`);
      await sleep(5000);
    }
    await sleep(30_000); // a few sync periods with the pods in place
    const busy = [await agentRss(agent1), await agentRss(agent2)];
    const row = (what: string, r: { mib: number; procs: number }[]) =>
      console.log(
        `${what.padEnd(22)} hawser agent (1 process): ${r[0].mib.toFixed(0)} MiB   separate units (${r[1].procs} processes): ${r[1].mib.toFixed(0)} MiB   ratio ${(r[0].mib / r[1].mib).toFixed(2)}`,
      );
    row('idle', idle);
    row(`${PODS} pods Running`, busy);
    console.log(
      `RESULT agent-rss-${PODS}pods ours=${busy[0].mib.toFixed(0)} separate=${busy[1].mib.toFixed(0)} k3s-documented=275 target=150 ratio=${(busy[0].mib / busy[1].mib).toFixed(2)}`,
    );
  } finally {
    await machinesDown();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
