// What a plugin left behind, normalised for comparison between our plugin and the reference:
// links, addresses, routes, selected sysctls, iptables/nft rules of a namespace, and IPAM files.
// MACs, random veth names and link-local addresses (derived from MACs) are masked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from './netns.ts';

type Json = Record<string, unknown>;

const VETH_RE = /^veth[0-9a-f]{8}$/;
export const maskName = (n: string | undefined): string | undefined => (n && VETH_RE.test(n) ? '<veth>' : n);

async function ipJ(ns: string, args: string[]): Promise<Json[]> {
  const r = await inNs(ns, 'ip', ['-j', ...args]);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} in ${ns}: ${r.stderr}`);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Json[]) : [];
}

export interface NsSnapshot {
  links: Json[];
  addrs: Json[];
  routes: Json[];
  sysctls: Record<string, string>;
  iptables: string;
  nft: string;
}

function linkView(l: Json): Json {
  const info = (l.linkinfo ?? {}) as Json;
  const slave = (info.info_slave_data ?? {}) as Json;
  const data = (info.info_data ?? {}) as Json;
  // A bridge's carrier follows its ports through the kernel's linkwatch, up to a second late:
  // not something either plugin controls, so it is left out.
  const bridge = info.info_kind === 'bridge';
  const flags = ((l.flags as string[]) ?? []).filter((f) => !bridge || (f !== 'NO-CARRIER' && f !== 'LOWER_UP'));
  return {
    name: maskName(l.ifname as string),
    kind: info.info_kind ?? null,
    mtu: l.mtu,
    flags: flags.sort(),
    operstate: bridge ? '<carrier>' : l.operstate,
    master: maskName(l.master as string | undefined) ?? null,
    txqlen: l.txqlen ?? null,
    promiscuity: l.promiscuity,
    hairpin: slave.hairpin ?? null,
    vlanFiltering: data.vlan_filtering ?? null,
  };
}

function addrView(l: Json): Json[] {
  return ((l.addr_info as Json[]) ?? [])
    .filter((a) => !(a.family === 'inet6' && String(a.local).startsWith('fe80:')))
    .map((a) => ({
      dev: maskName(l.ifname as string),
      family: a.family,
      local: a.local,
      prefixlen: a.prefixlen,
      broadcast: a.broadcast ?? null,
      scope: a.scope,
      tentative: a.tentative ?? false,
      nodad: a.nodad ?? false,
    }));
}

function routeView(r: Json): Json {
  return { dst: r.dst, gateway: r.gateway ?? null, dev: maskName(r.dev as string), protocol: r.protocol ?? null, scope: r.scope ?? null, metric: r.metric ?? null, type: r.type ?? null };
}

const byJson = (a: Json, b: Json): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

async function sysctls(ns: string, ifnames: string[]): Promise<Record<string, string>> {
  const keys = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding'];
  for (const i of ifnames) {
    keys.push(`net/ipv4/conf/${i}/arp_notify`, `net/ipv6/conf/${i}/accept_ra`, `net/ipv6/conf/${i}/accept_dad`, `net/ipv6/conf/${i}/disable_ipv6`);
  }
  const script = 'for k; do printf "%s=%s\\n" "$k" "$(cat /proc/sys/$k 2>/dev/null)"; done';
  const r = await inNs(ns, 'sh', ['-c', script, 'sh', ...keys]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.trim().split('\n')) {
    const eq = line.indexOf('=');
    const k = line.slice(0, eq).split('/').map((p) => maskName(p) ?? p).join('/');
    out[k] = line.slice(eq + 1);
  }
  return out;
}

/** iptables rules (both families, all tables) without counters and header comments. */
async function rules(ns: string): Promise<string> {
  const parts: string[] = [];
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const r = await inNs(ns, tool, []);
    parts.push(r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[*]')).join('\n'));
  }
  return parts.join('\n');
}

export async function snapshotNs(ns: string): Promise<NsSnapshot> {
  const links = await ipJ(ns, ['-d', 'link', 'show']);
  const addrs = await ipJ(ns, ['addr', 'show']);
  const routes = [...(await ipJ(ns, ['-4', 'route', 'show', 'table', 'main'])), ...(await ipJ(ns, ['-6', 'route', 'show', 'table', 'main']))];
  const nft = await inNs(ns, 'nft', ['list', 'ruleset']);
  return {
    links: links.map(linkView).sort(byJson),
    addrs: addrs.flatMap(addrView).sort(byJson),
    routes: routes.filter((r) => !String(r.dst).startsWith('fe80:')).map(routeView).sort(byJson),
    sysctls: await sysctls(ns, links.map((l) => String(l.ifname))),
    iptables: await rules(ns),
    nft: nft.stdout.replace(/handle \d+/g, 'handle *'),
  };
}

/** IPAM files under dir: relative name -> content (and mode), recursively. */
export function snapshotFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else out[r] = `${(statSync(p).mode & 0o777).toString(8)} ${JSON.stringify(readFileSync(p, 'utf8'))}`;
    }
  };
  walk(dir, '');
  return out;
}

/** A result with MACs, sandbox paths and random veth names masked. */
export function maskResult(j: Json | undefined): Json | undefined {
  if (!j) return j;
  const copy = JSON.parse(JSON.stringify(j)) as Json;
  for (const i of (copy.interfaces as Json[] | undefined) ?? []) {
    if (i.mac !== undefined) i.mac = '<mac>';
    if (i.sandbox !== undefined) i.sandbox = '<netns>';
    i.name = maskName(i.name as string);
  }
  return copy;
}
