// The cluster zone as a pure record index, rebuilt from Services, EndpointSlices and Pods (the
// records of the Kubernetes DNS-based service discovery spec, schema 1.1.0):
//   <svc>.<ns>.svc.<zone>            A/AAAA cluster IPs, or one per ready endpoint when headless;
//                                    CNAME for ExternalName
//   _<port>._<proto>.<svc>...        SRV per named port (per endpoint when headless)
//   <host>.<svc>.<ns>.svc.<zone>     A/AAAA per headless endpoint (hostname or dashed IP)
//   <a-b-c-d>.<ns>.pod.<zone>        A/AAAA for pods that exist with that IP ("pods verified")
//   reverse names                    PTR for cluster IPs and headless endpoints
//   <zone>  SOA + NS, ns.dns.<zone>  A of kube-system/kube-dns, dns-version.<zone> TXT
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import type { SoaData, SrvData } from 'dns-packet';
import { headlessEndpoints, podIPs, SERVICE_NAME_LABEL, subdomainPods } from './endpoints.ts';
import { dashedIP, familyOf, isUnder, normalName, reverseName, selfAndAncestors } from './names.ts';

export const SCHEMA_VERSION = '1.1.0';
export const DEFAULT_TTL = 5;

export type Rr =
  | { type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'; data: string }
  | { type: 'SRV'; data: Required<SrvData> }
  | { type: 'TXT'; data: string[] }
  | { type: 'SOA'; data: Required<SoaData> };

export interface DnsIndex {
  zone: string;
  ttl: number;
  /** false until the informers have listed once: cluster names then get SERVFAIL, never a false NXDOMAIN */
  synced: boolean;
  soa: Required<SoaData>;
  /** owner name (normal form) -> its records */
  records: Map<string, Rr[]>;
  /** every name under the zone that exists (owners and their ancestors): NODATA rather than NXDOMAIN */
  names: Set<string>;
}

export interface IndexInput {
  zone: string;
  ttl?: number;
  serial: number;
  services: V1Service[];
  slices: V1EndpointSlice[];
  pods: V1Pod[];
}

function soaFor(zone: string, serial: number, ttl: number): Required<SoaData> {
  // minimum is the negative-caching TTL (RFC 2308): a new Service is visible as soon as ttl passes
  return { mname: `ns.dns.${zone}`, rname: `hostmaster.${zone}`, serial: serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl };
}

/** A record's identity within its owner, for de-duplication (cheaper than serialising it). */
function rrKey(rr: Rr): string {
  switch (rr.type) {
    case 'SRV':
      return `SRV ${rr.data.port} ${rr.data.weight} ${rr.data.target}`;
    case 'TXT':
      return `TXT ${rr.data.join(' ')}`;
    case 'SOA':
      return 'SOA';
    default:
      return `${rr.type} ${rr.data}`;
  }
}

class Builder {
  readonly records = new Map<string, Rr[]>();
  private readonly keys = new Map<string, Set<string>>();

  add(owner: string, rr: Rr): void {
    const name = normalName(owner);
    const key = rrKey(rr);
    const keys = this.keys.get(name);
    if (!keys) {
      this.keys.set(name, new Set([key]));
      this.records.set(name, [rr]);
      return;
    }
    if (keys.has(key)) return;
    keys.add(key);
    this.records.get(name)!.push(rr);
  }

  address(owner: string, ip: string): void {
    const type = familyOf(ip);
    if (type) this.add(owner, { type, data: ip });
  }

  ptr(ip: string, target: string): void {
    const rev = reverseName(ip);
    if (rev) this.add(rev, { type: 'PTR', data: target });
  }
}

const protoLabel = (p: string) => `_${p.toLowerCase()}`;
const srv = (port: number, target: string, weight = 100): Rr => ({ type: 'SRV', data: { priority: 0, weight, port, target } });

function addClusterIPService(b: Builder, svc: V1Service, base: string): void {
  const ips = (svc.spec?.clusterIPs?.length ? svc.spec.clusterIPs : [svc.spec?.clusterIP ?? '']).filter((ip) => ip && ip !== 'None');
  for (const ip of ips) {
    b.address(base, ip);
    b.ptr(ip, base);
  }
  for (const p of svc.spec?.ports ?? []) {
    if (p.name) b.add(`_${p.name}.${protoLabel(p.protocol ?? 'TCP')}.${base}`, srv(p.port, base));
  }
}

function addHeadlessService(b: Builder, svc: V1Service, base: string, slices: V1EndpointSlice[], pods: V1Pod[]): void {
  const eps = headlessEndpoints(svc, slices, pods);
  // equal shares that add up to about 100, so the SRV set reads as percentages
  const perPort = new Map<string, number>();
  for (const e of eps) for (const p of e.ports) perPort.set(`${p.name}/${p.protocol}`, (perPort.get(`${p.name}/${p.protocol}`) ?? 0) + 1);
  for (const e of eps) {
    const host = `${e.hostname ?? dashedIP(e.ip)}.${base}`;
    b.address(base, e.ip);
    b.address(host, e.ip);
    b.ptr(e.ip, host);
    for (const p of e.ports) {
      const weight = Math.max(1, Math.floor(100 / perPort.get(`${p.name}/${p.protocol}`)!));
      b.add(`_${p.name}.${protoLabel(p.protocol)}.${base}`, srv(p.port, host, weight));
    }
  }
  for (const { hostname, ips } of subdomainPods(svc, pods)) {
    for (const ip of ips) {
      b.address(`${hostname}.${base}`, ip);
      b.ptr(ip, `${hostname}.${base}`);
    }
  }
}

function slicesByService(slices: V1EndpointSlice[]): Map<string, V1EndpointSlice[]> {
  const out = new Map<string, V1EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const k = `${s.metadata?.namespace}/${svc}`;
    const list = out.get(k);
    if (list) list.push(s);
    else out.set(k, [s]);
  }
  return out;
}

export function buildIndex(input: IndexInput): DnsIndex {
  const zone = normalName(input.zone);
  const ttl = input.ttl ?? DEFAULT_TTL;
  const soa = soaFor(zone, input.serial, ttl);
  const b = new Builder();
  b.add(zone, { type: 'SOA', data: soa });
  b.add(zone, { type: 'NS', data: soa.mname });
  b.add(`dns-version.${zone}`, { type: 'TXT', data: [SCHEMA_VERSION] });

  const sliceMap = slicesByService(input.slices);
  for (const svc of input.services) {
    const name = svc.metadata?.name;
    const ns = svc.metadata?.namespace;
    if (!name || !ns || svc.metadata?.deletionTimestamp) continue;
    const base = `${name}.${ns}.svc.${zone}`;
    if (svc.spec?.type === 'ExternalName') {
      if (svc.spec.externalName) b.add(base, { type: 'CNAME', data: normalName(svc.spec.externalName) });
    } else if (svc.spec?.clusterIP === 'None') {
      addHeadlessService(b, svc, base, sliceMap.get(`${ns}/${name}`) ?? [], input.pods);
    } else {
      addClusterIPService(b, svc, base);
    }
    if (ns === 'kube-system' && name === 'kube-dns') {
      for (const ip of svc.spec?.clusterIPs ?? [svc.spec?.clusterIP ?? '']) b.address(soa.mname, ip);
    }
  }
  for (const pod of input.pods) {
    const ns = pod.metadata?.namespace;
    if (!ns || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    for (const ip of podIPs(pod)) b.address(`${dashedIP(ip)}.${ns}.pod.${zone}`, ip);
  }

  const names = new Set<string>([soa.mname, ...selfAndAncestors(soa.mname, zone)]);
  for (const owner of b.records.keys()) {
    if (isUnder(owner, zone)) for (const n of selfAndAncestors(owner, zone)) names.add(n);
  }
  return { zone, ttl, synced: true, soa, records: b.records, names };
}

/** The index before the first list: knows its zone, answers nothing. */
export function emptyIndex(zone: string, ttl = DEFAULT_TTL): DnsIndex {
  const z = normalName(zone);
  return { zone: z, ttl, synced: false, soa: soaFor(z, 0, ttl), records: new Map(), names: new Set() };
}
