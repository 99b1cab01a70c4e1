// Network helpers shared by the [sig-network] files: reading endpoints the way a user reads them,
// and asking a Service for hostnames from inside a client pod, with failure reasons that separate
// "no endpoints" (the endpoints controller) from "no answer" (kube-proxy's rules on the node).
import { get } from 'node:http';
import { until, type Ctx, type Kube } from './fixture.ts';

export type ByPod = Record<string, string[]>;

/** pod name (or IP) -> sorted "portName:port", from an Endpoints object's addresses. */
export function endpointsByPod(ep: any, which: 'addresses' | 'notReadyAddresses' = 'addresses'): ByPod {
  const out: ByPod = {};
  for (const s of ep?.subsets ?? []) {
    for (const a of s[which] ?? []) {
      const key = a.targetRef?.name ?? a.ip;
      out[key] = [...(out[key] ?? []), ...(s.ports ?? []).map((p: any) => `${p.name ?? ''}:${p.port}`)].sort();
    }
  }
  return out;
}

/** The same view from a list of EndpointSlices: ready endpoints, or the not-ready ones. */
export function slicesByPod(slices: any[], ready = true): ByPod {
  const out: ByPod = {};
  for (const sl of slices) {
    for (const e of sl.endpoints ?? []) {
      if ((e.conditions?.ready !== false) !== ready) continue;
      const key = e.targetRef?.name ?? e.addresses[0];
      out[key] = [...(out[key] ?? []), ...(sl.ports ?? []).map((p: any) => `${p.name ?? ''}:${p.port}`)].sort();
    }
  }
  return out;
}

export const sameByPod = (a: ByPod, b: ByPod): boolean => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
const sorted = (o: ByPod) => Object.fromEntries(Object.entries(o).sort(([x], [y]) => x.localeCompare(y)));

export const serviceSlices = (k: Kube, svc: string): any[] => k.json<any>(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`]).items as any[];

/** Waits until Endpoints and EndpointSlices both list exactly `want`; the error shows what they list. */
export async function expectEndpoints(k: Kube, svc: string, want: ByPod, timeoutMs = 30_000): Promise<void> {
  let got: ByPod = {},
    slices: ByPod = {};
  try {
    await until(
      `endpoints of ${svc}`,
      () => {
        got = endpointsByPod(k.get('endpoints', svc));
        slices = slicesByPod(serviceSlices(k, svc));
        return sameByPod(got, want) && sameByPod(slices, want);
      },
      timeoutMs,
    );
  } catch {
    throw new Error(
      `Service ${svc}: wanted endpoints ${JSON.stringify(want)}, Endpoints has ${JSON.stringify(got)}, EndpointSlices have ${JSON.stringify(slices)} after ${timeoutMs / 1000} s (is an endpoints controller running?)`,
    );
  }
}

/** Waits until the Service has `n` ready endpoints, so a failure after it is the data path's. */
export async function waitServiceEndpoints(k: Kube, svc: string, n: number, timeoutMs = 30_000): Promise<void> {
  let got: ByPod = {};
  try {
    await until(
      `${n} endpoints for ${svc}`,
      () => {
        got = endpointsByPod(k.get('endpoints', svc));
        return Object.keys(got).length === n;
      },
      timeoutMs,
    );
  } catch {
    throw new Error(
      `Service ${svc} has ${Object.keys(got).length} ready endpoints, wanted ${n}, after ${timeoutMs / 1000} s (is an endpoints controller running?)`,
    );
  }
}

/**
 * `count` GETs of `url` from inside `client`, in one exec; returns the answers in order ("" for a
 * failed request). Upstream's affinity checks do the same from an exec pod.
 */
export function hostnamesFrom(k: Kube, client: string, url: string, count: number, perRequestSec = 3): string[] {
  // $(...) drops the body's trailing newline, so each request is exactly one line
  const script = `i=0; while [ $i -lt ${count} ]; do r=$(timeout ${perRequestSec} wget -q -O- ${url} 2>/dev/null); echo "$r"; i=$((i+1)); done`;
  const r = k.exec(client, ['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`exec in ${client} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .slice(0, count)
    .map((s) => s.trim());
}

const KUBE_PROXY_HINT = "Service virtual IPs and node ports are kube-proxy's rules on each node: is kube-proxy running there?";

/** Fetches url from the client until it answers; the error carries wget's own words and the hint. */
export async function reachable(k: Kube, client: string, url: string, timeoutMs = 30_000): Promise<string> {
  let last = '';
  try {
    return await until(
      `${url} to answer from ${client}`,
      () => {
        const r = k.fetchFrom(client, url, 3);
        last = r.code === 0 ? '' : (r.stderr || r.stdout).trim().replace(/\s*\n\s*/g, '; ') || `exit ${r.code}`;
        return r.code === 0 && r.stdout.trim();
      },
      timeoutMs,
      1000,
    );
  } catch {
    throw new Error(`${url} did not answer from pod ${client} within ${timeoutMs / 1000} s (${last || 'no output'}). ${KUBE_PROXY_HINT}`);
  }
}

export const clusterIPOf = (c: Ctx, svc: string): string => c.k.json<any>(['get', 'service', svc]).spec.clusterIP;

/** An HTTP GET from this process (the lab host, outside every node), retried until it answers 200; resolves to the body. */
export function fromHost(url: string, timeoutMs = 5000): Promise<string> {
  return until(
    `${url} to answer from outside the nodes`,
    () =>
      new Promise<string | undefined>((resolve) => {
        // a fresh connection each time: a kept-alive one would stay on one backend
        const req = get(url, { timeout: timeoutMs, agent: false }, (res) => {
          let body = '';
          res.on('data', (d) => {
            body += d;
          });
          res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
        });
        req.on('timeout', () => {
          req.destroy();
          resolve(undefined);
        });
        req.on('error', () => resolve(undefined));
      }),
    30_000,
    1000,
  );
}
