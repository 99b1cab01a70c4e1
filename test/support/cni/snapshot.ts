// What a plugin left behind, normalised for comparison between our plugin and the reference:
// links, addresses, routes, selected sysctls, iptables/nft rules of a namespace, and IPAM files.
// MACs, random veth names and link-local addresses (derived from MACs) are masked.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { inNs } from './netns.ts';

type Json = Record<string, unknown>;

const VETH_RE = /^veth[0-9a-f]{8}$/;
export const maskName = (n: string | undefined): string | undefined => (n && VETH_RE.test(n) ? '<veth>' : n);

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
  return {
    dst: r.dst,
    gateway: r.gateway ?? null,
    dev: maskName(r.dev as string),
    protocol: r.protocol ?? null,
    scope: r.scope ?? null,
    metric: r.metric ?? null,
    type: r.type ?? null,
  };
}

const byJson = (a: Json, b: Json): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

// One exec per namespace: every section printed after a marker line.
const SNAPSHOT_SCRIPT = [
  'echo @links; ip -j -d link show',
  'echo @addrs; ip -j addr show',
  'echo @r4; ip -j -4 route show table main',
  'echo @r6; ip -j -6 route show table main',
  'echo @sysctls; for k in net/ipv4/ip_forward net/ipv6/conf/all/forwarding; do echo "$k=$(cat /proc/sys/$k)"; done',
  'for d in /proc/sys/net/ipv4/conf/*; do i=${d##*/}; case $i in all|default) continue;; esac;' +
    ' echo "net/ipv4/conf/$i/arp_notify=$(cat $d/arp_notify)";' +
    ' for k in accept_ra accept_dad disable_ipv6; do echo "net/ipv6/conf/$i/$k=$(cat /proc/sys/net/ipv6/conf/$i/$k 2>/dev/null)"; done; done',
  'echo @ipt; iptables-save',
  'echo @ip6t; ip6tables-save',
  'echo @nft; nft list ruleset',
].join('\n');

function sections(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let cur = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('@')) out[(cur = line.slice(1))] = '';
    else if (cur) out[cur] += line + '\n';
  }
  return out;
}

const json = (s: string | undefined): Json[] => (s && s.trim() ? (JSON.parse(s) as Json[]) : []);

function sysctlView(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.trim().split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const k = line
      .slice(0, eq)
      .split('/')
      .map((p) => maskName(p) ?? p)
      .join('/');
    out[k] = line.slice(eq + 1);
  }
  return out;
}

/**
 * iptables-save output without counters and comments, and without tables that hold nothing but empty
 * built-in chains (a plugin merely looking at a table creates it; that is not state).
 */
export function rulesView(dump: string): string {
  const tables: string[] = [];
  let cur: string[] = [];
  for (const l of dump.split('\n')) {
    if (!l || l.startsWith('#')) continue;
    cur.push(l.replace(/\[\d+:\d+\]/g, '[*]'));
    if (l === 'COMMIT') {
      const meaningful = cur.some((x) => x.startsWith('-') || (x.startsWith(':') && !/^:[A-Z]+ ACCEPT /.test(x)));
      if (meaningful) tables.push(cur.join('\n'));
      cur = [];
    }
  }
  return tables.join('\n');
}

/** nft tables other than iptables-nft's own (ip/ip6 families are compared through iptables-save). */
function nftView(text: string): string {
  const blocks = text.split(/\n(?=table )/).filter((b) => b.trim() && !/^table ip6? /.test(b.trim()));
  return blocks.join('\n').replace(/handle \d+/g, 'handle *');
}

/** @param kernelTimed drop address flags that depend on DAD timers (bridge gateway addresses) */
export async function snapshotNs(ns: string, opts: { kernelTimed?: boolean } = {}): Promise<NsSnapshot> {
  const r = await inNs(ns, 'sh', ['-c', SNAPSHOT_SCRIPT]);
  if (r.code !== 0) throw new Error(`snapshot of ${ns}: ${r.stderr}`);
  const sec = sections(r.stdout);
  const links = json(sec.links);
  const addrs = json(sec.addrs).flatMap(addrView);
  if (opts.kernelTimed) for (const a of addrs) delete a.tentative;
  return {
    links: links.map(linkView).sort(byJson),
    addrs: addrs.sort(byJson),
    routes: [...json(sec.r4), ...json(sec.r6)]
      .filter((x) => !String(x.dst).startsWith('fe80:'))
      .map(routeView)
      .sort(byJson),
    sysctls: sysctlView(sec.sysctls ?? ''),
    iptables: rulesView(sec.ipt ?? '') + '\n' + rulesView(sec.ip6t ?? ''),
    nft: nftView(sec.nft ?? ''),
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
