// The kubelet's serving certificate, under tlsDir as kubelet.crt / kubelet.key (upstream's names):
// signed by the cluster CA when the control plane gives one (the API server verifies it), else
// self-signed; reused while it still names this node, is more than 30 days from expiry and (given
// an issuer) is signed by the cluster CA. A node whose address changed gets a new one instead of a
// certificate that no longer matches what the API server dials.
// The self-signed one is made by agents/api/certs.ts, as the control plane's CA is.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { certSANs, DAY_MS as DAY, selfSigned, x509 } from '../../api/certs.ts';

export interface ServingCert {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

/** The names the certificate must carry: the node name and IP, plus loopback for local callers. */
export const servingSans = (nodeName: string, nodeIP: string): string[] => [...new Set([nodeName, nodeIP, 'localhost', '127.0.0.1'].filter(Boolean))];

/** Why the stored pair cannot be reused, or undefined when it can. */
export function staleReason(certPem: string, keyPem: string, sans: string[], now = Date.now()): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'key does not match certificate';
  } catch (e) {
    return `unreadable: ${(e as Error).message}`;
  }
  if (Date.parse(cert.validTo) - now < 30 * DAY) return 'expires within 30 days';
  const have = new Set(certSANs(cert));
  const missing = sans.filter((s) => !have.has(s));
  return missing.length ? `does not name ${missing.join(', ')}` : undefined;
}

/** Where a CA-signed serving certificate comes from: the cluster CA, and a request for the node's IPs. */
export interface ServingCertIssuer {
  ca: Buffer;
  issue(addresses: string[]): Promise<{ certPem: string; keyPem: string }>;
}

function signedBy(certPem: string, ca: Buffer): boolean {
  try {
    return new X509Certificate(certPem).checkIssued(new X509Certificate(ca));
  } catch {
    return false;
  }
}

export async function ensureServingCert(
  tlsDir: string,
  nodeName: string,
  nodeIP: string,
  issuer?: ServingCertIssuer,
  onIssueError?: (e: unknown) => void,
): Promise<ServingCert & { created: boolean; selfSigned: boolean }> {
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const certFile = join(tlsDir, 'kubelet.crt');
  const keyFile = join(tlsDir, 'kubelet.key');
  const sans = servingSans(nodeName, nodeIP);
  if (issuer) {
    // the control plane signs the node name and IPs (not "localhost")
    const want = sans.filter((s) => s === nodeName || isIP(s));
    if (existsSync(certFile) && existsSync(keyFile)) {
      const certPem = readFileSync(certFile, 'utf8');
      const keyPem = readFileSync(keyFile, 'utf8');
      if (!staleReason(certPem, keyPem, want) && signedBy(certPem, issuer.ca)) return { certPem, keyPem, certFile, keyFile, created: false, selfSigned: false };
    }
    try {
      const { certPem, keyPem } = await issuer.issue(want.filter((s) => isIP(s)));
      writeFileSync(keyFile, keyPem, { mode: 0o600 });
      chmodSync(keyFile, 0o600);
      writeFileSync(certFile, certPem, { mode: 0o644 });
      return { certPem, keyPem, certFile, keyFile, created: true, selfSigned: false };
    } catch (e) {
      onIssueError?.(e);
    }
  }
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    if (!staleReason(certPem, keyPem, sans)) return { certPem, keyPem, certFile, keyFile, created: false, selfSigned: true };
  }
  const { certPem, keyPem } = await selfSigned({
    // its own trust anchor: clients pin this certificate (kube-apiserver's --kubelet-certificate-authority)
    name: [{ CN: [`${nodeName}@${Math.floor(Date.now() / 1000)}`] }],
    days: 365,
    keyUsages: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
    servingSans: sans,
  });
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, certPem, { mode: 0o644 });
  return { certPem, keyPem, certFile, keyFile, created: true, selfSigned: true };
}
