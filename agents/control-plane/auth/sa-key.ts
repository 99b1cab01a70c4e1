// The service-account signing key: one RSA key the control plane makes on first start and keeps
// in its data dir (0600), as kube-apiserver's --service-account-signing-key-file (RS256 is
// upstream's default algorithm). Its public half is served at /openid/v1/jwks; the key id is
// upstream's keyIDFromPublicKey (base64url of the SHA-256 of the public key's PKIX DER).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../private-file.ts';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** the JWS "kid" and the JWK "kid" */
  kid: string;
}

export const SA_KEY_FILE = 'service.key';

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, kid: keyIdOf(publicKey) };
}

/** <tlsDir>/service.key, made (RSA 2048, PKCS#1 PEM as k3s writes it) when absent. */
export function loadOrCreateSigningKey(tlsDir: string): SigningKey {
  const file = join(tlsDir, SA_KEY_FILE);
  if (existsSync(file)) return signingKeyFrom(createPrivateKey(readFileSync(file, 'utf8')));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileAtomic(file, privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  return signingKeyFrom(privateKey);
}

/** The public key as a JWK for the JWKS document (use sig, alg RS256). */
export function publicJwk(k: SigningKey): Record<string, string> {
  const jwk = k.publicKey.export({ format: 'jwk' });
  return { use: 'sig', kty: 'RSA', kid: k.kid, alg: 'RS256', n: String(jwk.n), e: String(jwk.e) };
}
