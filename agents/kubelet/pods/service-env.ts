// Service link environment variables (FOO_SERVICE_HOST, FOO_PORT_80_TCP_ADDR ...): every Service
// with a cluster IP in the pod's namespace when enableServiceLinks is on, and always the
// `kubernetes` Service of the default namespace. Pure.
import type { V1Pod, V1Service } from '@kubernetes/client-node';

const envName = (s: string) => s.toUpperCase().replace(/-/g, '_');

const ipSet = (s: V1Service) => !!s.spec?.clusterIP && s.spec.clusterIP !== 'None';

export function serviceEnv(pod: V1Pod, services: V1Service[]): Record<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const chosen = new Map<string, V1Service>();
  for (const s of services) {
    if (!ipSet(s)) continue;
    const name = s.metadata!.name!;
    if (s.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, s);
    } else if (s.metadata?.namespace === ns && links) chosen.set(name, s);
  }
  const out: Record<string, string> = {};
  for (const s of chosen.values()) {
    const name = envName(s.metadata!.name!);
    const ip = s.spec!.clusterIP!;
    const ports = s.spec?.ports ?? [];
    out[`${name}_SERVICE_HOST`] = ip;
    if (ports[0]) out[`${name}_SERVICE_PORT`] = String(ports[0].port);
    for (const p of ports) if (p.name) out[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    if (ports[0]) out[`${name}_PORT`] = `${(ports[0].protocol ?? 'TCP').toLowerCase()}://${ip}:${ports[0].port}`;
    for (const p of ports) {
      const proto = p.protocol ?? 'TCP';
      const prefix = `${name}_PORT_${p.port}_${proto.toUpperCase()}`;
      out[prefix] = `${proto.toLowerCase()}://${ip}:${p.port}`;
      out[`${prefix}_PROTO`] = proto.toLowerCase();
      out[`${prefix}_PORT`] = String(p.port);
      out[`${prefix}_ADDR`] = ip;
    }
  }
  return out;
}
