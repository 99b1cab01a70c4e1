// Stale UDP flows. A UDP "connection" lives in conntrack as long as packets keep coming, so a
// client that keeps sending to a Service IP sticks to a removed endpoint, or to the no-endpoint
// state, until its flow is deleted. After each sync the proxy deletes exactly those flows; TCP
// needs nothing (a dead endpoint resets or times out and the client reconnects).
import { ExecError, type Exec } from '../api/exec.ts';
import type { Endpoint } from './model.ts';
import { planPort } from './policy.ts';
import type { PortWithEndpoints } from './tracker.ts';

const key = (e: Endpoint) => `${e.ip}:${e.port}`;

/** conntrack(8) argument lists for the flows that a change of one Service leaves stale. */
export function staleFlows(prev: PortWithEndpoints[], next: PortWithEndpoints[]): string[][] {
  const out: string[][] = [];
  const nextByName = new Map(next.map((p) => [p.svc.name + '/' + p.svc.protocol, p]));
  const prevByName = new Map(prev.map((p) => [p.svc.name + '/' + p.svc.protocol, p]));
  const vips = (p: PortWithEndpoints) => [p.svc.clusterIP, ...p.svc.externalIPs, ...p.svc.loadBalancerIPs];
  for (const p of prev) {
    if (p.svc.protocol !== 'UDP') continue;
    const n = nextByName.get(p.svc.name + '/UDP');
    const port = String(p.svc.port);
    if (!n || n.svc.port !== p.svc.port) {
      for (const ip of vips(p)) out.push(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', port]);
      continue;
    }
    const still = new Set(planPort(n.svc, n.endpoints).reachable.map(key));
    for (const ep of planPort(p.svc, p.endpoints).reachable) {
      if (still.has(key(ep))) continue;
      for (const ip of vips(p)) {
        out.push(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', port, '--reply-src', ep.ip, '--reply-port-src', String(ep.port)]);
      }
      if (p.svc.nodePort) {
        out.push(['-D', '-p', 'udp', '--orig-port-dst', String(p.svc.nodePort), '--reply-src', ep.ip, '--reply-port-src', String(ep.port)]);
      }
    }
  }
  // A Service that gains its first endpoints: flows created while it had none were never DNATed.
  for (const n of next) {
    if (n.svc.protocol !== 'UDP') continue;
    const p = prevByName.get(n.svc.name + '/UDP');
    const had = p ? planPort(p.svc, p.endpoints).reachable.length > 0 : false;
    if (had || planPort(n.svc, n.endpoints).reachable.length === 0) continue;
    for (const ip of vips(n)) out.push(['-D', '-p', 'udp', '--orig-dst', ip, '--orig-port-dst', String(n.svc.port)]);
    if (n.svc.nodePort) out.push(['-D', '-p', 'udp', '--orig-port-dst', String(n.svc.nodePort)]);
  }
  return out;
}

/** Runs the deletions; "0 flow entries have been deleted" (exit 1) is success. */
export async function deleteFlows(exec: Exec, flows: string[][]): Promise<number> {
  let failed = 0;
  for (const args of flows) {
    try {
      await exec('conntrack', args);
    } catch (err) {
      if (!(err instanceof ExecError && err.code === 1)) failed++;
    }
  }
  return failed;
}
