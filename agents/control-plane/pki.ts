// The cluster's certificates: a long-lived CA, the API server's serving certificate and client
// certificates (CN = user, O = groups), all ECDSA P-256 through @peculiar/x509 on node's webcrypto.
// Files are PEM (PKCS#8 keys) under <dataDir>/tls; a restart reuses them, and the serving certificate
// is re-issued only when its SANs changed or it nears expiry.
import { X509Certificate as NodeX509 } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  certSANs,
  crypto,
  DAY_MS as DAY,
  generateKeys,
  KEY_ALG as ALG,
  privateKeyPem,
  sanExtension,
  selfSigned,
  serialNumber as serial,
  toPem,
  x509,
  type KeyPair,
} from '../api/certs.ts';
import { writeFileAtomic } from './private-file.ts';

export { certSANs, type KeyPair };

interface LoadedCA extends KeyPair {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return crypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

function subject(cn: string, orgs: string[] = []): x509.JsonName {
  const name: x509.JsonName = orgs.map((o) => ({ O: [o] }));
  name.push({ CN: [cn] });
  return name;
}

const write = writeFileAtomic;

/** The CA in <tlsDir>/ca.crt and ca.key, made on first use (cn: its subject, e.g. a separate front-proxy CA's). */
export async function loadOrCreateCA(tlsDir: string, cn = 'hawser-ca'): Promise<LoadedCA> {
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const certFile = join(tlsDir, 'ca.crt');
  const keyFile = join(tlsDir, 'ca.key');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    return { certPem, keyPem, cert: new x509.X509Certificate(certPem), key: await importKey(keyPem) };
  }
  const ca = await selfSigned({
    name: subject(cn),
    days: 3650,
    keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
  });
  write(keyFile, ca.keyPem, 0o600);
  write(certFile, ca.certPem, 0o644);
  return ca;
}

export interface IssueOptions {
  cn: string;
  orgs?: string[];
  /** DNS names and IP addresses for a serving certificate */
  sans?: string[];
  usage: 'server' | 'client';
  days?: number;
}

export async function issueCert(ca: LoadedCA, o: IssueOptions): Promise<KeyPair> {
  const keys = await generateKeys();
  const now = Date.now();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([o.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  ];
  if (o.sans?.length) extensions.push(sanExtension(o.sans));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subject(o.cn, o.orgs),
    issuer: ca.cert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + (o.days ?? 365) * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALG,
    extensions,
  });
  return {
    certPem: toPem(cert.rawData, 'CERTIFICATE'),
    keyPem: await privateKeyPem(keys.privateKey),
  };
}

/** Reuses <tlsDir>/<name>.crt/.key unless missing, issued for other SANs, or within 30 days of expiry. */
export async function ensureServingCert(ca: LoadedCA, tlsDir: string, name: string, sans: string[]): Promise<KeyPair> {
  const certFile = join(tlsDir, `${name}.crt`);
  const keyFile = join(tlsDir, `${name}.key`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const c = new NodeX509(certPem);
    const have = new Set(certSANs(certPem));
    const fresh = new Date(c.validTo).getTime() - Date.now() > 30 * DAY;
    const signedByCA = c.checkIssued(new NodeX509(ca.certPem));
    if (fresh && signedByCA && sans.every((s) => have.has(s))) return { certPem, keyPem: readFileSync(keyFile, 'utf8') };
  }
  const pair = await issueCert(ca, { cn: 'kube-apiserver', sans, usage: 'server' });
  write(keyFile, pair.keyPem, 0o600);
  write(certFile, pair.certPem, 0o644);
  return pair;
}

/** Whether a certificate's subject is exactly this CN and these O values (node's `subject` is "O=a\nCN=b"). */
export function subjectIs(c: NodeX509, cn: string, orgs: string[]): boolean {
  const have = c.subject.split('\n').filter(Boolean).sort();
  return JSON.stringify(have) === JSON.stringify([...orgs.map((o) => `O=${o}`), `CN=${cn}`].sort());
}

/** A client certificate kept in <tlsDir>/<name>.crt/.key, reissued when missing, foreign, for another subject or near expiry. */
export async function ensureClientCert(ca: LoadedCA, tlsDir: string, name: string, cn: string, orgs: string[], days = 365): Promise<KeyPair> {
  const certFile = join(tlsDir, `${name}.crt`);
  const keyFile = join(tlsDir, `${name}.key`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    const certPem = readFileSync(certFile, 'utf8');
    const c = new NodeX509(certPem);
    if (new Date(c.validTo).getTime() - Date.now() > 30 * DAY && c.checkIssued(new NodeX509(ca.certPem)) && subjectIs(c, cn, orgs)) {
      return { certPem, keyPem: readFileSync(keyFile, 'utf8') };
    }
  }
  const pair = await issueCert(ca, { cn, orgs, usage: 'client', days });
  write(keyFile, pair.keyPem, 0o600);
  write(certFile, pair.certPem, 0o644);
  return pair;
}
