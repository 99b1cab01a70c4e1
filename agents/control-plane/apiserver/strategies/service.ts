// Services: defaulting, cluster IP and node port allocation, validation, printing.
import { contains, nthIP, parseCIDR, parseIP, size } from '../../../api/ip.ts';
import { invalid as invalidError } from '../errors.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { duplicate, type FieldError, invalid, notSupported, required } from '../validation/field.ts';
import { validateLabels } from '../validation/meta.ts';
import { dns1123Label } from '../validation/names.ts';
import type { Obj, Strategy, StrategyContext } from './types.ts';

type Any = Record<string, any>;

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
const RESERVE_MS = 60_000;

const needsNodePorts = (spec: Any) => spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
/** upstream needsHCNodePort: a LoadBalancer whose external traffic stays on nodes with endpoints */
const needsHealthCheckPort = (spec: Any) => spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local';
const hasClusterIP = (spec: Any) => spec.type !== 'ExternalName' && spec.clusterIP !== 'None';

/** Recently handed-out values count as used until the object holding them is surely stored. */
class Reservations {
  private readonly at = new Map<string, number>();
  add(v: string): void {
    this.at.set(v, Date.now());
  }
  has(v: string): boolean {
    const t = this.at.get(v);
    if (t === undefined) return false;
    if (Date.now() - t > RESERVE_MS) {
      this.at.delete(v);
      return false;
    }
    return true;
  }
}
// per API server (its strategy context): two servers in one process share nothing
const reservations = new WeakMap<StrategyContext, { ips: Reservations; ports: Reservations }>();
function reservationsOf(ctx: StrategyContext): { ips: Reservations; ports: Reservations } {
  let r = reservations.get(ctx);
  if (!r) reservations.set(ctx, (r = { ips: new Reservations(), ports: new Reservations() }));
  return r;
}

function allocError(o: Obj, field: string, value: unknown, detail: string) {
  return invalidError('Service', '', o.metadata.name ?? '', [invalid(field, value, detail)]);
}

/** Pure: a free offset in [lo, hi], starting at a random point, or undefined. */
export function pickFree(lo: number, hi: number, used: (n: number) => boolean, rand = Math.random): number | undefined {
  const span = hi - lo + 1;
  if (span <= 0) return undefined;
  const start = Math.floor(rand() * span);
  for (let i = 0; i < span; i++) {
    const n = lo + ((start + i) % span);
    if (!used(n)) return n;
  }
  return undefined;
}

async function allocate(svc: Obj, old: Obj | undefined, ctx: StrategyContext): Promise<void> {
  const spec = svc.spec;
  const { ips: ipReservations, ports: portReservations } = reservationsOf(ctx);
  const others = (await ctx.list('services')).filter((s) => s.metadata.uid !== svc.metadata.uid);
  const cidr = parseCIDR(ctx.serviceCIDR)!;
  if (hasClusterIP(spec) && !old?.spec?.clusterIP) {
    const usedIPs = new Set(others.flatMap((s) => s.spec?.clusterIPs ?? [s.spec?.clusterIP]).filter(Boolean));
    if (spec.clusterIP) {
      const ip = parseIP(spec.clusterIP);
      if (!ip || !contains(cidr, ip))
        throw allocError(
          svc,
          'spec.clusterIPs',
          [spec.clusterIP],
          `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${ctx.serviceCIDR}`,
        );
      if (usedIPs.has(spec.clusterIP) || ipReservations.has(spec.clusterIP))
        throw allocError(svc, 'spec.clusterIPs', [spec.clusterIP], `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`);
    } else {
      const total = Number(size(cidr) > 1n << 20n ? 1n << 20n : size(cidr));
      // the lower band is kept for addresses users ask for by hand, as upstream does
      const staticBand = Math.min(256, Math.max(16, Math.floor(total / 16)));
      const free = (n: number) => usedIPs.has(nthIP(cidr, n)) || ipReservations.has(nthIP(cidr, n));
      const n = pickFree(staticBand, total - 2, free) ?? pickFree(1, total - 2, free);
      if (n === undefined) throw allocError(svc, 'spec.clusterIPs', [], 'failed to allocate a serviceIP: range is full');
      spec.clusterIP = nthIP(cidr, n);
    }
    ipReservations.add(spec.clusterIP);
    spec.clusterIPs = [spec.clusterIP];
  }
  // node ports and health check node ports share one range, as upstream's allocator
  const usedPorts = new Set<number>(others.flatMap((s) => [...(s.spec?.ports ?? []).map((p: Any) => p.nodePort), s.spec?.healthCheckNodePort]).filter(Boolean));
  const mine = new Set<number>();
  /** The port asked for (checked) or a free one, claimed for this Service. */
  const claim = (field: string, wanted: number | undefined, oldPort: number | undefined): number => {
    let port = wanted;
    if (port) {
      if (port < NODE_PORT_MIN || port > NODE_PORT_MAX)
        throw allocError(svc, field, port, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`);
      if (port !== oldPort && (usedPorts.has(port) || mine.has(port) || portReservations.has(String(port))))
        throw allocError(svc, field, port, 'provided port is already allocated');
    } else {
      port = pickFree(NODE_PORT_MIN, NODE_PORT_MAX, (x) => usedPorts.has(x) || mine.has(x) || portReservations.has(String(x)));
      if (port === undefined) throw allocError(svc, field, 0, 'range is full');
    }
    mine.add(port);
    portReservations.add(String(port));
    return port;
  };
  if (needsNodePorts(spec)) {
    (spec.ports ?? []).forEach((p: Any, i: number) => {
      const oldPort = old?.spec?.ports?.find((q: Any) => q.port === p.port && q.protocol === p.protocol)?.nodePort;
      p.nodePort = claim(`spec.ports[${i}].nodePort`, p.nodePort || oldPort, oldPort);
    });
  } else for (const p of spec.ports ?? []) delete p.nodePort;
  if (needsHealthCheckPort(spec)) spec.healthCheckNodePort = claim('spec.healthCheckNodePort', spec.healthCheckNodePort, old?.spec?.healthCheckNodePort);
}

function validateService(svc: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = svc.spec ?? {};
  if (!TYPES.includes(spec.type)) errs.push(notSupported('spec.type', spec.type, TYPES));
  if (spec.type === 'ExternalName') {
    if (!spec.externalName) errs.push(required('spec.externalName'));
  } else if (spec.clusterIP !== 'None' && !(spec.ports ?? []).length) errs.push(required('spec.ports'));
  const ports: Any[] = spec.ports ?? [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const pp = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) errs.push(required(`${pp}.name`));
    if (p.name) {
      for (const m of dns1123Label(p.name)) errs.push(invalid(`${pp}.name`, p.name, m));
      if (names.has(p.name)) errs.push(duplicate(`${pp}.name`, p.name));
      names.add(p.name);
    }
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) errs.push(invalid(`${pp}.port`, p.port, 'must be between 1 and 65535, inclusive'));
    if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    const tp = p.targetPort;
    if (typeof tp === 'number' && (tp < 1 || tp > 65535)) errs.push(invalid(`${pp}.targetPort`, tp, 'must be between 1 and 65535, inclusive'));
  });
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (spec.healthCheckNodePort && !needsHealthCheckPort(spec))
    errs.push(
      invalid('spec.healthCheckNodePort', spec.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
    );
  if (spec.loadBalancerClass !== undefined && spec.type !== 'LoadBalancer')
    errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, "may only be used when `type` is 'LoadBalancer'"));
  if (spec.sessionAffinity && !['ClientIP', 'None'].includes(spec.sessionAffinity))
    errs.push(notSupported('spec.sessionAffinity', spec.sessionAffinity, ['ClientIP', 'None']));
  for (const f of ['externalTrafficPolicy', 'internalTrafficPolicy'])
    if (spec[f] && !['Cluster', 'Local'].includes(spec[f])) errs.push(notSupported(`spec.${f}`, spec[f], ['Cluster', 'Local']));
  return errs;
}

function portsCell(svc: Obj): string {
  const ports: Any[] = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',');
}

function externalIPCell(svc: Obj): string {
  const spec = svc.spec ?? {};
  const ext: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ExternalName':
      return spec.externalName ?? '';
    case 'LoadBalancer': {
      const ing: string[] = (svc.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip ?? i.hostname);
      const all = [...ing, ...ext];
      return all.length ? all.join(',') : '<pending>';
    }
    default:
      return ext.length ? ext.join(',') : '<none>';
  }
}

export const serviceStrategy: Strategy = {
  defaults(svc) {
    const spec = (svc.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    if (spec.sessionAffinity === 'ClientIP') spec.sessionAffinityConfig ??= { clientIP: { timeoutSeconds: 10800 } };
    for (const p of spec.ports ?? []) {
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
    if (spec.type !== 'ExternalName') {
      spec.internalTrafficPolicy ??= 'Cluster';
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.ipFamilies ??= ['IPv4'];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
    if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
  },
  prepareForCreate(svc) {
    svc.status = { loadBalancer: {} };
  },
  validate: validateService,
  validateUpdate(next, old) {
    const errs: FieldError[] = [];
    const was = old.spec?.clusterIP;
    if (was && next.spec?.type !== 'ExternalName' && next.spec?.clusterIP && next.spec.clusterIP !== was)
      errs.push(invalid('spec.clusterIPs[0]', next.spec.clusterIP, 'may not change once set'));
    if (old.spec?.type === 'LoadBalancer' && next.spec?.type === 'LoadBalancer' && old.spec.loadBalancerClass !== next.spec.loadBalancerClass)
      errs.push(invalid('spec.loadBalancerClass', next.spec.loadBalancerClass, 'may not change once set'));
    return errs;
  },
  async beforeCreate(svc, ctx) {
    await allocate(svc, undefined, ctx);
  },
  prepareForUpdate(next, old) {
    // upstream patchAllocatedValues and dropTypeDependentFields: a health check port left out is kept
    // while still needed, and released with the need
    const hc = old.spec?.healthCheckNodePort;
    if (hc && needsHealthCheckPort(next.spec ?? {}) && !next.spec.healthCheckNodePort) next.spec.healthCheckNodePort = hc;
    if (hc && !needsHealthCheckPort(next.spec ?? {}) && next.spec?.healthCheckNodePort === hc) delete next.spec.healthCheckNodePort;
    // an update that leaves allocated values out keeps them (kubectl replace of a hand-written file)
    if (next.spec?.type !== 'ExternalName' && !next.spec.clusterIP && old.spec?.clusterIP) {
      next.spec.clusterIP = old.spec.clusterIP;
      next.spec.clusterIPs = old.spec.clusterIPs;
    }
  },
  async beforeUpdate(next, old, ctx) {
    await allocate(next, old, ctx);
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Type', 'The type of the service'),
      col('Cluster-IP', 'The cluster ip of the service'),
      col('External-IP', 'The external ip of the service'),
      col('Port(s)', 'The ports of the service'),
      AGE_COLUMN,
      col('Selector', 'The label selector of the service', 1),
    ],
    row(svc, now) {
      const sel =
        Object.entries(svc.spec?.selector ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',') || '<none>';
      return [
        svc.metadata.name,
        svc.spec?.type ?? '',
        svc.spec?.clusterIP || '<none>',
        externalIPCell(svc),
        portsCell(svc),
        age(svc.metadata.creationTimestamp, now),
        sel,
      ];
    },
  },
};
