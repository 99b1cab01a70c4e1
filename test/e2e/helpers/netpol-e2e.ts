// Shared by the NetworkPolicy e2e files (iptables mode: network-policy.test.ts; nftables mode:
// netpol-nftables.test.ts): server and client pods placed on chosen nodes, policies applied with
// kubectl, and real connections checked both ways until they go as expected. Servers run busybox
// httpd on 8080 (port name serve-8080) and 9090 (serve-9090) and an nc sink on 7000; clients
// connect with wget (bounded by timeout: this busybox's wget -T crashes) through kubectl exec. The
// policies REJECT, so a refused connection fails at once instead of timing out.
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { systemEnv } from '../../../agents/api/system-path.ts';
import { etcDirOf, nodeProc } from '../../../agents/cli/lab/components.ts';
import { startProc, stopProc } from '../../../agents/cli/lab/procs.ts';
import type { LabNode } from '../../../agents/cli/lab/topology.ts';
import { bin, eventually, kubectl, kubectlJson, kubectlOk, type NodeLab } from './node-e2e.ts';

/** A tool in a lab node's namespace; the system's: npx puts node_modules/.bin (where @vercel/nft is an `nft`) first on PATH. */
export const inNode = (n: LabNode, cmd: string, args: string[]) =>
  execFileSync('ip', ['netns', 'exec', n.netns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: systemEnv() });

/**
 * A lab node switched to nftables mode as an install with --proxy-mode nftables runs it: podnet and
 * kube-proxy restarted with the key in their files, kube-proxy's iptables rules removed between
 * (kube-proxy --cleanup); done when both nftables tables are there.
 */
export async function switchToNftables(L: NodeLab, n: LabNode): Promise<void> {
  for (const c of ['podnet', 'kube-proxy'] as const) await stopProc(nodeProc(L.lab, n, c, bin).pidFile);
  execFileSync('ip', ['netns', 'exec', n.netns, process.execPath, bin, 'kube-proxy', '--cleanup'], { stdio: 'ignore', timeout: 60_000, env: systemEnv() });
  for (const c of ['podnet', 'kube-proxy'] as const) {
    const file = `${etcDirOf(L.lab, n)}/${c}.yaml`;
    writeFileSync(file, stringify({ ...parse(readFileSync(file, 'utf8')), 'proxy-mode': 'nftables' }));
    startProc(nodeProc(L.lab, n, c, bin));
  }
  await eventually(
    `${n.name}: both nftables tables`,
    async () => {
      try {
        inNode(n, 'nft', ['list', 'table', 'ip', 'kube-proxy']);
        inNode(n, 'nft', ['list', 'table', 'ip', 'hawser-netpol']);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
  );
}

export interface P {
  ns: string;
  name: string;
  ip?: string;
}
/** a pod to place: on which node, with which labels, a server (three containers) or a client */
export type Placement = [P, string, Record<string, string>, boolean];
export type Check = [P, P, number, boolean];

export class PolicyLab {
  constructor(private readonly L: NodeLab) {}

  private podYaml(p: P, node: string, labels: Record<string, string>, server: boolean): object {
    const c = (name: string, cmd: string[] | undefined, ports: object[]) => ({ name, image: this.L.testapp, ...(cmd ? { command: cmd } : {}), ports });
    const containers = server
      ? [
          c('web', undefined, [{ name: 'serve-8080', containerPort: 8080 }]),
          c('alt', ['/bin/httpd', '-f', '-p', '9090', '-h', '/www'], [{ name: 'serve-9090', containerPort: 9090 }]),
          // busybox nc stops reading once its stdin ends: a sleep keeps it open (one connection per pod, all the tests need)
          c('sink', ['/bin/sh', '-c', 'sleep 3600 | nc -l -p 7000'], [{ name: 'sink', containerPort: 7000 }]),
        ]
      : [c('web', undefined, [{ name: 'serve-8080', containerPort: 8080 }])];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: p.name, namespace: p.ns, labels },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers },
    };
  }

  apply(o: object): Promise<string> {
    return kubectlOk(this.L.kc, ['apply', '-f', '-'], JSON.stringify(o));
  }

  policy(ns: string, name: string, spec: object): Promise<string> {
    return this.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
  }

  async clearPolicies(namespaces: string[]): Promise<void> {
    for (const ns of namespaces) await kubectlOk(this.L.kc, ['-n', ns, 'delete', 'networkpolicy', '--all']);
  }

  /** Creates the pods and waits until each runs ready with an address (set on its P). */
  async place(placed: Placement[]): Promise<void> {
    for (const [p, node, labels, server] of placed) await this.apply(this.podYaml(p, node, labels, server));
    for (const [p] of placed) {
      const pod = await eventually(
        `${p.name} running`,
        async () => {
          const o = await kubectlJson(this.L.kc, ['-n', p.ns, 'get', 'pod', p.name]);
          return o.status?.phase === 'Running' && o.status.podIP && (o.status.containerStatuses ?? []).every((c: { ready: boolean }) => c.ready)
            ? o
            : undefined;
        },
        90_000,
      );
      p.ip = pod.status.podIP;
    }
  }

  /** One real TCP connection from `from` to `to`:port (HTTP on 8080/9090): true when it got an answer. */
  async reach(from: P, to: P, port = 8080): Promise<boolean> {
    const r = await kubectl(
      this.L.kc,
      ['-n', from.ns, 'exec', from.name, '-c', 'web', '--', 'timeout', '4', 'wget', '-q', '-O', '-', `http://${to.ip}:${port}/`],
      undefined,
      20_000,
    );
    return r.code === 0;
  }

  /** Waits until every connection goes as expected (policies take a moment to reach the nodes). */
  async expect(t: ExecutionContext, what: string, checks: Check[]): Promise<void> {
    let last = '';
    await eventually(
      what,
      async () => {
        const got = await Promise.all(checks.map(([f, to, port]) => this.reach(f, to, port)));
        last = checks
          .map(
            ([f, to, port, want], k) =>
              `${f.name}->${to.name}:${port} ${got[k] ? 'ok' : 'refused'}${got[k] === want ? '' : ' (want ' + (want ? 'ok' : 'refused') + ')'}`,
          )
          .join(', ');
        return got.every((g, k) => g === checks[k][3]);
      },
      30_000,
      300,
    ).catch((e) => {
      throw new Error(`${(e as Error).message}: ${last}`);
    });
    t.pass(`${what}: ${last}`);
  }
}
