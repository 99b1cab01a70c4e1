// The facts `hawser status` reports (report.ts): the install manifest, systemd's view of the
// units, the cluster through the host's own kubeconfig, and the certificates on disk.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../api/client.ts';
import { loadKubeconfig, type ClusterAuth } from '../../api/kubeconfig.ts';
import { readManifest } from '../install/apply.ts';
import { LAYOUT } from '../install/layout.ts';
import type { CertFact, ClusterFacts, StatusFacts, UnitState } from './report.ts';

interface NodeObj {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}
interface PodObj {
  status?: { phase?: string };
}

function unitStates(units: string[]): UnitState[] {
  return units.map((unit) => {
    try {
      const out = execFileSync('systemctl', ['show', '-p', 'ActiveState,SubState,ActiveEnterTimestamp', unit], { encoding: 'utf8', timeout: 5000 });
      const kv = Object.fromEntries(
        out
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      return { unit, active: kv.ActiveState || 'unknown', sub: kv.SubState || 'unknown', since: kv.ActiveEnterTimestamp || undefined };
    } catch (e) {
      return { unit, active: 'unknown', sub: (e as Error).message.split('\n')[0] };
    }
  });
}

function certFile(file: string): CertFact[] {
  try {
    const pem = readFileSync(file, 'utf8');
    const c = new X509Certificate(pem);
    return [{ file, subject: c.subject.replace(/\n/g, ', '), notAfter: new Date(c.validTo) }];
  } catch {
    return [];
  }
}

function certFromKubeconfig(file: string, auth: ClusterAuth | undefined): CertFact[] {
  if (!auth?.cert) return [];
  try {
    const c = new X509Certificate(auth.cert);
    return [{ file: `${file} (client certificate)`, subject: c.subject.replace(/\n/g, ', '), notAfter: new Date(c.validTo) }];
  } catch {
    return [];
  }
}

async function clusterFacts(auth: ClusterAuth, nodeName: string | undefined): Promise<ClusterFacts> {
  const api = new ApiClient(auth, 'hawser-status');
  try {
    // a node's identity may list only the pods bound to it (the Node authorizer), so an agent
    // reports its own pods and a server the whole cluster's
    const [version, nodes, pods] = await Promise.all([
      api.get<{ gitVersion: string }>('/version'),
      api.get<{ items: NodeObj[] }>('/api/v1/nodes'),
      api.get<{ items: PodObj[] }>('/api/v1/pods', nodeName ? { fieldSelector: `spec.nodeName=${nodeName}` } : undefined),
    ]);
    return {
      server: auth.server,
      version: version.gitVersion,
      nodes: nodes.items.map((n) => ({ name: n.metadata.name, ready: !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') })),
      pods: { scope: nodeName ? 'this node' : 'cluster', total: pods.items.length, running: pods.items.filter((p) => p.status?.phase === 'Running').length },
    };
  } catch (e) {
    return { server: auth.server, error: (e as Error).message };
  }
}

export async function gatherStatus(hawserVersion: string): Promise<StatusFacts> {
  const m = readManifest('/');
  const role = m?.settings.role;
  const systemd = existsSync('/run/systemd/system');
  const kubeconfig = role === 'server' ? LAYOUT.adminKubeconfig : LAYOUT.kubeconfig;
  let auth: ClusterAuth | undefined;
  try {
    auth = role && existsSync(kubeconfig) ? loadKubeconfig(kubeconfig) : undefined;
  } catch {
    auth = undefined;
  }
  const nodeName = role === 'agent' ? (m?.settings.nodeName ?? os.hostname().toLowerCase()) : undefined;
  const tls = join(LAYOUT.serverDataDir, 'tls');
  const serverCerts =
    role === 'server' && existsSync(tls)
      ? readdirSync(tls)
          .filter((f) => f.endsWith('.crt'))
          .map((f) => join(tls, f))
      : [];
  const kubeletCert = join(LAYOUT.kubeletDir, 'pki', 'kubelet.crt');
  return {
    hawserVersion,
    role,
    nodeName,
    systemd,
    units: systemd && m ? unitStates(m.units.filter((u) => u.startsWith('hawser-'))) : [],
    cluster: auth ? await clusterFacts(auth, nodeName) : undefined,
    certs: [
      ...serverCerts.flatMap(certFile),
      ...(role === 'agent' ? [...certFile(LAYOUT.caCert), ...certFile(kubeletCert), ...certFromKubeconfig(kubeconfig, auth)] : []),
    ],
    now: new Date(),
  };
}
