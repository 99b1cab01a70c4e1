// `hawser status`: what an operator asks first on a host — what is installed and running, which
// versions, how the cluster looks from here, and when the certificates expire. Pure: the facts
// come from gather.ts, so the wording and the warnings are unit-tested.
export interface UnitState {
  unit: string;
  active: string;
  sub: string;
  since?: string;
}
export interface CertFact {
  file: string;
  subject: string;
  notAfter: Date;
}
export interface ClusterFacts {
  server: string;
  version?: string;
  nodes?: { name: string; ready: boolean }[];
  /** the whole cluster's pods (a server), or this node's (an agent may list only those) */
  pods?: { scope: 'cluster' | 'this node'; total: number; running: number };
  error?: string;
}
export interface StatusFacts {
  hawserVersion: string;
  role?: 'server' | 'agent';
  nodeName?: string;
  systemd: boolean;
  units: UnitState[];
  cluster?: ClusterFacts;
  certs: CertFact[];
  now: Date;
}

const DAY = 86_400_000;
/** Upstream's kubeadm warns at 30 days; hawser's control plane renews its own certificates then. */
export const EXPIRY_WARN_DAYS = 30;

export function renderStatus(f: StatusFacts): { text: string; code: number } {
  const out: string[] = [];
  let problems = 0;
  out.push(`hawser ${f.hawserVersion}: ${f.role ? `installed as ${f.role}${f.nodeName ? ` (node ${f.nodeName})` : ''}` : 'not installed on this host'}`);
  if (f.units.length) {
    out.push('', 'units:');
    for (const u of f.units) {
      if (u.active !== 'active') problems++;
      out.push(`  ${u.unit.padEnd(28)} ${u.active} (${u.sub})${u.since ? ` since ${u.since}` : ''}`);
    }
  } else if (f.role && !f.systemd) out.push('', 'units: systemd is not running here, so the units cannot run');
  if (f.cluster) {
    const c = f.cluster;
    out.push('', `cluster: ${c.server}`);
    if (c.error) {
      problems++;
      out.push(`  not reachable: ${c.error}`);
    } else {
      if (c.version) out.push(`  API server ${c.version}`);
      if (c.nodes) {
        const ready = c.nodes.filter((n) => n.ready);
        out.push(
          `  nodes: ${ready.length} of ${c.nodes.length} Ready${
            c.nodes.length > ready.length
              ? ` (not Ready: ${c.nodes
                  .filter((n) => !n.ready)
                  .map((n) => n.name)
                  .join(', ')})`
              : ''
          }`,
        );
        if (f.nodeName) {
          const me = c.nodes.find((n) => n.name === f.nodeName);
          if (!me?.ready) problems++;
          out.push(`  this node: ${me ? (me.ready ? 'Ready' : 'NotReady') : 'not registered'}`);
        }
      }
      if (c.pods) out.push(`  pods${c.pods.scope === 'this node' ? ' on this node' : ''}: ${c.pods.total} (${c.pods.running} Running)`);
    }
  }
  if (f.certs.length) {
    out.push('', 'certificates:');
    for (const c of [...f.certs].sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime())) {
      const days = Math.floor((c.notAfter.getTime() - f.now.getTime()) / DAY);
      const note = days < 0 ? 'EXPIRED' : days < EXPIRY_WARN_DAYS ? `expires in ${days} days: renew it` : `${days} days left`;
      if (days < EXPIRY_WARN_DAYS) problems++;
      out.push(`  ${c.file} (${c.subject}): ${c.notAfter.toISOString().slice(0, 10)}, ${note}`);
    }
  }
  out.push('', problems ? `${problems} problem(s)` : 'no problems');
  return { text: `${out.join('\n')}\n`, code: problems ? 1 : 0 };
}
