// The one certificate toolkit: ECDSA P-256 keys through @peculiar/x509 on node's webcrypto, PEM
// encoding, positive serials (Go rejects negative ones), SAN extensions and SAN reading, and the one
// self-signed path. The control plane's CA (control-plane/pki.ts) and the kubelet's fallback serving
// certificate (kubelet/server/serving-cert.ts) are both made by selfSigned(); CA-signed certificates
// are issued in pki.ts on the same pieces.
import './reflect-polyfill.ts';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';

export { x509 };

export const crypto = webcrypto as unknown as Crypto;
x509.cryptoProvider.set(crypto);

export const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export const generateKeys = async (): Promise<CryptoKeyPair> => (await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;

export const toPem = (der: ArrayBuffer, label: string): string => `${x509.PemConverter.encode(der, label)}\n`;

/** The PKCS#8 PEM of a private key. */
export const privateKeyPem = async (key: CryptoKey): Promise<string> => toPem(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

/** A positive serial (Go rejects negative ones): 16 random bytes with the top bit cleared. */
export function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

/** DNS names and IP addresses as a subjectAltName extension. */
export const sanExtension = (sans: string[]): x509.SubjectAlternativeNameExtension =>
  new x509.SubjectAlternativeNameExtension(sans.map((s) => (isIP(s) ? { type: 'ip' as const, value: s } : { type: 'dns' as const, value: s })));

/** SANs of a certificate, as plain strings (DNS names and IPs). */
export function certSANs(cert: string | X509Certificate): string[] {
  const c = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return (c.subjectAltName ?? '')
    .split(', ')
    .filter(Boolean)
    .map((s) => s.replace(/^(DNS|IP Address):/, ''));
}

export interface SelfSignedOptions {
  /** the subject (and issuer): CN, then O values */
  name: x509.JsonName;
  days: number;
  keyUsages: x509.KeyUsageFlags;
  /** serverAuth and these SANs, for a serving certificate that is its own trust anchor */
  servingSans?: string[];
}

/**
 * A self-signed CA certificate (basic constraints CA, critical) valid from an hour ago, with its
 * subject key identifier; a serving one also names its SANs and serverAuth.
 */
export async function selfSigned(o: SelfSignedOptions): Promise<KeyPair & { cert: x509.X509Certificate; key: CryptoKey }> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: o.name,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + o.days * DAY_MS),
    keys,
    signingAlgorithm: KEY_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(o.keyUsages, true),
      ...(o.servingSans ? [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), sanExtension(o.servingSans)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: toPem(cert.rawData, 'CERTIFICATE'), keyPem: await privateKeyPem(keys.privateKey), cert, key: keys.privateKey };
}
