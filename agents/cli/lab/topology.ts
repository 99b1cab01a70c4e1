// Pure description of a lab: names, addresses and paths, all derived from the lab's name, its
// /24 and its worker count, so that `up`, `down` and tests agree without shared state.
import { cidrsOverlap } from '../../api/ip.ts';

export interface LabOptions {
  name: string;
  subnet: string;
  workers: number;
  stateRoot: string;
  podnetBackend?: 'host-gw' | 'vxlan';
}

export interface LabNode {
  name: string;
  netns: string;
  hostVeth: string;
  ip: string;
  dir: string;
  socket: string;
}

export interface Lab {
  name: string;
  dir: string;
  bridge: string;
  bridgeIP: string;
  prefix: number;
  registry: string; // ip:port of the lab registry
  registryHost: string; // the name images use
  server: string; // API server URL
  serverDir: string;
  adminKubeconfig: string;
  cniBinDir: string;
  clusterCIDR: string;
  serviceCIDR: string;
  podnetBackend: 'host-gw' | 'vxlan';
  nodes: LabNode[];
}

export const REGISTRY_HOST = 'registry.hawser.local';
export const LAB_SERVICE_CIDR = '10.96.0.0/12';

/**
 * Each lab's pod network, so that the API server in the root namespace can route to every lab's
 * pods at once: lab subnet 10.A.0.0/24 (1 <= A <= 127, outside 10.96.0.0/12) -> 10.(A+128).0.0/16.
 * Lab subnets stay below 10.128 and pod networks above it, so neither meets another lab's, nor
 * the Services' 10.96.0.0/12 (`make lab` 10.77 -> 10.205, the conformance lab 10.80 -> 10.208).
 */
export function labClusterCIDR(subnet: string): string {
  const m = /^10\.(\d+)\.0\.0\/24$/.exec(subnet);
  const a = m ? Number(m[1]) : NaN;
  if (!(a >= 1 && a <= 127) || cidrsOverlap(subnet, LAB_SERVICE_CIDR)) {
    throw new Error(
      `lab subnet must be 10.A.0.0/24 with A from 1 to 127 outside the Services' ${LAB_SERVICE_CIDR} (its pods get 10.(A+128).0.0/16), got "${subnet}"`,
    );
  }
  return `10.${a + 128}.0.0/16`;
}

export function topology(o: LabOptions): Lab {
  const m = /^(\d+)\.(\d+)\.(\d+)\.0\/24$/.exec(o.subnet);
  if (!m) throw new Error(`lab subnet must be an IPv4 /24 such as 10.77.0.0/24, got "${o.subnet}"`);
  if (!/^[a-z][a-z0-9]{0,7}$/.test(o.name)) throw new Error(`lab name must be 1-8 lowercase letters/digits, got "${o.name}"`);
  if (o.workers < 1 || o.workers > 9) throw new Error('a lab has 1 to 9 workers');
  const clusterCIDR = labClusterCIDR(o.subnet);
  const net = `${m[1]}.${m[2]}.${m[3]}`;
  const dir = `${o.stateRoot}/${o.name}`;
  const bridgeIP = `${net}.1`;
  return {
    name: o.name,
    dir,
    bridge: `${o.name}-br`,
    bridgeIP,
    prefix: 24,
    registry: `${bridgeIP}:5000`,
    registryHost: REGISTRY_HOST,
    server: `https://${bridgeIP}:6443`,
    serverDir: `${dir}/server`,
    adminKubeconfig: `${dir}/server/admin.kubeconfig`,
    cniBinDir: `${dir}/cni-bin`,
    clusterCIDR,
    serviceCIDR: LAB_SERVICE_CIDR,
    podnetBackend: o.podnetBackend ?? 'host-gw',
    nodes: Array.from({ length: o.workers }, (_, i) => {
      const name = `${o.name}-worker${i + 1}`;
      return { name, netns: name, hostVeth: `${o.name}-w${i + 1}`, ip: `${net}.${11 + i}`, dir: `${dir}/${name}`, socket: `${dir}/${name}/containerd.sock` };
    }),
  };
}

export interface PodRoute {
  dst: string;
  via: string;
}

/**
 * The root namespace's routes to each node's podCIDR through that node's lab address, as a
 * control-plane host on the node network has them, so the API server reaches pods (pods/proxy,
 * services/proxy). Only podCIDRs inside the lab's pod network, only for the lab's own nodes.
 */
export function podRoutes(lab: Lab, nodes: { name: string; podCIDR?: string }[]): PodRoute[] {
  return nodes.flatMap((n) => {
    const own = lab.nodes.find((x) => x.name === n.name);
    return own && n.podCIDR && cidrsOverlap(n.podCIDR, lab.clusterCIDR) ? [{ dst: n.podCIDR, via: own.ip }] : [];
  });
}
