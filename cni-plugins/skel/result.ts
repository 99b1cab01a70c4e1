// CNI results: one internal shape (the 1.x result) and conversion to and from every older wire format.
// Key order in the output follows the reference so a byte comparison of results is meaningful.
import { CniError, ErrCode } from './errors.ts';
import { versionAtLeast } from './version.ts';

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}
export interface IPConfig {
  interface?: number;
  address: string; // CIDR: address/prefix
  gateway?: string;
}
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}
export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}
export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns: DNS;
}

type Json = Record<string, unknown>;

const isV4 = (cidrOrIp: string): boolean => !cidrOrIp.includes(':');

function pick<T extends object>(o: T, keys: (keyof T)[]): Json {
  const out: Json = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    out[k as string] = v;
  }
  return out;
}

function dnsJson(d: DNS | undefined): Json {
  return pick(d ?? {}, ['nameservers', 'domain', 'search', 'options']);
}

function routeJson(r: Route, version: string): Json {
  const keys: (keyof Route)[] = versionAtLeast(version, '1.1.0') ? ['dst', 'gw', 'mtu', 'advmss', 'priority', 'table', 'scope'] : ['dst', 'gw'];
  return pick(r, keys);
}

function ifaceJson(i: Interface, version: string): Json {
  const keys: (keyof Interface)[] = versionAtLeast(version, '1.1.0') ? ['name', 'mac', 'mtu', 'sandbox', 'socketPath', 'pciID'] : ['name', 'mac', 'sandbox'];
  return pick(i, keys);
}

/** Serialise a result as the given spec version would carry it. Throws when the version cannot hold it. */
export function resultToVersion(r: Result, version: string): Json {
  if (!versionAtLeast(version, '0.3.0')) return toV02(r, version);
  const out: Json = { cniVersion: version };
  if (r.interfaces?.length) out.interfaces = r.interfaces.map((i) => ifaceJson(i, version));
  if (r.ips?.length) {
    const withVersion = !versionAtLeast(version, '1.0.0');
    out.ips = r.ips.map((ip) => {
      const o: Json = withVersion ? { version: isV4(ip.address) ? '4' : '6' } : {};
      if (ip.interface !== undefined) o.interface = ip.interface;
      o.address = ip.address;
      if (ip.gateway) o.gateway = ip.gateway;
      return o;
    });
  }
  if (r.routes?.length) out.routes = r.routes.map((rt) => routeJson(rt, version));
  out.dns = dnsJson(r.dns);
  return out;
}

// 0.1.0/0.2.0 carry at most one address per family, each with its own routes.
function toV02(r: Result, version: string): Json {
  const out: Json = { cniVersion: version };
  const fams: Record<'ip4' | 'ip6', Json | undefined> = { ip4: undefined, ip6: undefined };
  for (const ip of r.ips ?? []) {
    const key = isV4(ip.address) ? 'ip4' : 'ip6';
    if (fams[key]) continue;
    fams[key] = ip.gateway ? { ip: ip.address, gateway: ip.gateway } : { ip: ip.address };
  }
  for (const rt of r.routes ?? []) {
    const fam = fams[isV4(rt.dst) ? 'ip4' : 'ip6'];
    if (!fam) continue;
    ((fam.routes ??= []) as Json[]).push(routeJson(rt, '1.0.0'));
  }
  if (!fams.ip4 && !fams.ip6) throw new CniError(ErrCode.internal, 'cannot convert: no valid IP addresses');
  if (fams.ip4) out.ip4 = fams.ip4;
  if (fams.ip6) out.ip6 = fams.ip6;
  out.dns = dnsJson(r.dns);
  return out;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new CniError(ErrCode.decodingFailure, `failed to parse ${what}: expected a string`);
  return v;
}

function parseRoutes(v: unknown): Route[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CniError(ErrCode.decodingFailure, 'failed to parse routes');
  return v.map((x: Json) => {
    const r: Route = { dst: str(x.dst, 'route dst') };
    if (x.gw) r.gw = str(x.gw, 'route gw');
    for (const k of ['mtu', 'advmss', 'priority', 'table', 'scope'] as const) if (typeof x[k] === 'number') r[k] = x[k] as number;
    return r;
  });
}

/** Read a result of any version (e.g. an IPAM plugin's output or a prevResult) into the 1.x shape. */
export function parseResult(raw: Json): Result {
  const version = typeof raw.cniVersion === 'string' && raw.cniVersion ? raw.cniVersion : '0.1.0';
  const dns = (raw.dns && typeof raw.dns === 'object' ? raw.dns : {}) as DNS;
  if (!versionAtLeast(version, '0.3.0')) {
    const ips: IPConfig[] = [];
    const routes: Route[] = [];
    for (const key of ['ip4', 'ip6'] as const) {
      const fam = raw[key] as Json | undefined;
      if (!fam) continue;
      ips.push(fam.gateway ? { address: str(fam.ip, 'ip'), gateway: str(fam.gateway, 'gateway') } : { address: str(fam.ip, 'ip') });
      routes.push(...parseRoutes(fam.routes));
    }
    return { cniVersion: version, ips, routes, dns };
  }
  const interfaces = Array.isArray(raw.interfaces) ? (raw.interfaces as Interface[]).map((i) => ({ ...i })) : [];
  const ips = Array.isArray(raw.ips)
    ? (raw.ips as Json[]).map((x) => {
        const ip: IPConfig = { address: str(x.address, 'address') };
        if (typeof x.interface === 'number') ip.interface = x.interface;
        if (x.gateway) ip.gateway = str(x.gateway, 'gateway');
        return ip;
      })
    : [];
  return { cniVersion: version, interfaces, ips, routes: parseRoutes(raw.routes), dns };
}

/** Go's json.MarshalIndent(v, "", "    "): what the reference prints for results. */
export function formatResult(j: Json): string {
  return JSON.stringify(j, null, 4);
}
