// Kubeconfig files with embedded credentials, in the shape kubectl and client-go read.
import { writeFileAtomic } from './private-file.ts';
import YAML from 'yaml';

export interface KubeconfigParams {
  server: string;
  caPem: string;
  user: string;
  certPem: string;
  keyPem: string;
  cluster?: string;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function renderKubeconfig(p: KubeconfigParams): string {
  const cluster = p.cluster ?? 'hawser';
  const context = `${p.user}@${cluster}`;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    users: [{ name: p.user, user: { 'client-certificate-data': b64(p.certPem), 'client-key-data': b64(p.keyPem) } }],
    contexts: [{ name: context, context: { cluster, user: p.user } }],
    'current-context': context,
    preferences: {},
  });
}

export function writeKubeconfig(file: string, p: KubeconfigParams): void {
  writeFileAtomic(file, renderKubeconfig(p));
}
