// The kubelet's serving certificate, under tlsDir as kubelet.crt / kubelet.key (upstream's names):
// signed by the cluster CA when the control plane gives one (the API server verifies it), else
// self-signed; reused while it still names this node, is more than 30 days from expiry and (given
// an issuer) is signed by the cluster CA. A node whose address changed gets a new one instead of a
// certificate that no longer matches what the API server dials.
// tsyringe (inside @peculiar/x509) needs Reflect metadata at load time; this shim must come first.
// It lives with the control plane's PKI today; both should take it from a shared place.
import 'reflect-metadata';   // @peculiar/x509's tsyringe needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

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
  const have = new Set((cert.subjectAltName ?? '').split(', ').map((s) => s.replace(/^(DNS|IP Address):/, '')));
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

export async function ensureServingCert(tlsDir: string, nodeName: string, nodeIP: string, issuer?: ServingCertIssuer, onIssueError?: (e: unknown) => void): Promise<ServingCert & { created: boolean; selfSigned: boolean }> {
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
  const { certPem, keyPem } = await selfSigned(nodeName, sans);
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, certPem, { mode: 0o644 });
  return { certPem, keyPem, certFile, keyFile, created: true, selfSigned: true };
}

async function selfSigned(nodeName: string, sans: string[]): Promise<{ certPem: string; keyPem: string }> {
  const keys = (await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive, as Go's parser demands
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [`${nodeName}@${Math.floor(now / 1000)}`] }],
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 365 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      // its own trust anchor: clients pin this certificate (kube-apiserver's --kubelet-certificate-authority)
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: x509.PemConverter.encode(cert.rawData, 'CERTIFICATE') + '\n',
    keyPem: x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') + '\n',
  };
}
