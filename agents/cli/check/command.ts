// `hawser check-config`: the host's facts against what the role needs. Settings come from the
// flags, else from the install manifest of a host where hawser is installed, else the defaults.
import { DEFAULT_SETTINGS } from '../install/configs.ts';
import { readManifest } from '../install/apply.ts';
import { LAYOUT, type Role } from '../install/layout.ts';
import { gatherFacts } from './facts.ts';
import { evaluate, render, ROLE_PORTS, roleCommands, type CheckOptions } from './rules.ts';
import { parseProxyMode } from '../../kube-proxy/modes.ts';

export interface CheckConfigFlags {
  role?: string;
  clusterCidr?: string;
  serviceCidr?: string;
  podnetBackend?: string;
  proxyMode?: string;
}

export function checkConfigOptions(f: CheckConfigFlags, installed = readManifest('/')?.settings): CheckOptions {
  const role = f.role ?? installed?.role ?? 'agent';
  if (role !== 'server' && role !== 'agent') throw new Error(`--role must be server or agent, not "${role}"`);
  const base = { ...DEFAULT_SETTINGS, ...(installed ?? {}) };
  const podnetBackend = f.podnetBackend ?? base.podnetBackend;
  if (podnetBackend !== 'host-gw' && podnetBackend !== 'vxlan') throw new Error(`--podnet-backend must be host-gw or vxlan, not "${podnetBackend}"`);
  const proxyMode = parseProxyMode(f.proxyMode ?? base.proxyMode);
  return { role: role as Role, clusterCIDR: f.clusterCidr ?? base.clusterCIDR, serviceCIDR: f.serviceCidr ?? base.serviceCIDR, podnetBackend, proxyMode };
}

export function checkConfig(f: CheckConfigFlags): { text: string; code: number } {
  const o = checkConfigOptions(f);
  const facts = gatherFacts({ commands: roleCommands(o.role, o.proxyMode), ports: ROLE_PORTS[o.role].map((p) => p.port), criSocket: LAYOUT.criSocket });
  const r = render(evaluate(facts, o));
  return { text: `hawser check-config: role ${o.role}, cluster CIDR ${o.clusterCIDR}, service CIDR ${o.serviceCIDR}\n\n${r.text}`, code: r.code };
}
