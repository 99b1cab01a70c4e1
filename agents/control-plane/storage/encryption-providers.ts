// The value transformers of upstream's encryption at rest (k8s.io/apiserver storage/value), one
// per provider: each stores `k8s:enc:<provider>:v1:<key name>:` + ciphertext, so any listed key
// can read what an earlier key wrote (rotation). The store's values are text, so the ciphertext
// after the prefix is base64 (upstream writes raw bytes into etcd's byte values).
// secretbox (XSalsa20-Poly1305) is not offered: node:crypto (OpenSSL 3) has no XSalsa20.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';

export type ProviderType = 'aescbc' | 'aesgcm' | 'identity';

/** One key of one provider: writes values under `prefix`, reads values that start with it. */
export interface ValueTransformer {
  readonly type: ProviderType;
  /** the key's name ('' for identity) */
  readonly name: string;
  /** '' for identity: it matches every value not claimed by an earlier transformer */
  readonly prefix: string;
  /** `storageKey` is the authenticated data of aesgcm, as upstream binds a value to its key */
  seal(plain: Buffer, storageKey: string): Buffer;
  open(sealed: Buffer, storageKey: string): Buffer;
}

export const ENCRYPTED_PREFIX = 'k8s:enc:';
const AES_KEY_SIZES = [16, 24, 32];

export function providerPrefix(type: Exclude<ProviderType, 'identity'>, name: string): string {
  return `${ENCRYPTED_PREFIX}${type}:v1:${name}:`;
}

function aesBits(key: Buffer): 128 | 192 | 256 {
  if (!AES_KEY_SIZES.includes(key.length)) throw new Error(`secret is not of the expected length, got ${key.length}, expected one of [16 24 32]`);
  return (key.length * 8) as 128 | 192 | 256;
}

/** AES-CBC with PKCS#7 padding and a random 16-byte IV in front, as upstream's aescbc. */
export function aescbc(name: string, key: Buffer): ValueTransformer {
  const alg = `aes-${aesBits(key)}-cbc`;
  return {
    type: 'aescbc',
    name,
    prefix: providerPrefix('aescbc', name),
    seal(plain) {
      const iv = randomBytes(16);
      const c = createCipheriv(alg, key, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    open(sealed) {
      if (sealed.length < 32 || sealed.length % 16 !== 0) throw new Error('the stored data is not a whole number of AES blocks');
      const d = createDecipheriv(alg, key, sealed.subarray(0, 16));
      try {
        return Buffer.concat([d.update(sealed.subarray(16)), d.final()]);
      } catch {
        throw new Error('invalid PKCS7 data (empty or not padded): the key does not match the one the value was written with');
      }
    },
  };
}

/** AES-GCM with a random 12-byte nonce in front and the 16-byte tag behind, as upstream's aesgcm. */
export function aesgcm(name: string, key: Buffer): ValueTransformer {
  const alg: CipherGCMTypes = `aes-${aesBits(key)}-gcm`;
  return {
    type: 'aesgcm',
    name,
    prefix: providerPrefix('aesgcm', name),
    seal(plain, storageKey) {
      const nonce = randomBytes(12);
      const c = createCipheriv(alg, key, nonce);
      c.setAAD(Buffer.from(storageKey));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([nonce, body, c.getAuthTag()]);
    },
    open(sealed, storageKey) {
      if (sealed.length < 12 + 16) throw new Error('the stored data is too short for AES-GCM');
      const d = createDecipheriv(alg, key, sealed.subarray(0, 12));
      d.setAAD(Buffer.from(storageKey));
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      try {
        return Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]);
      } catch {
        throw new Error('cipher: message authentication failed: the key does not match the one the value was written with');
      }
    },
  };
}

/** Plain text; refuses to hand out a value an encrypting provider wrote (upstream's identity). */
export const identity: ValueTransformer = {
  type: 'identity',
  name: '',
  prefix: '',
  seal: (plain) => plain,
  open(sealed) {
    if (sealed.subarray(0, ENCRYPTED_PREFIX.length).toString('latin1') === ENCRYPTED_PREFIX)
      throw new Error('identity transformer tried to read encrypted data');
    return sealed;
  },
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The first transformer writes; a value is read by the first whose prefix it carries. */
export class PrefixTransformers {
  constructor(readonly list: readonly ValueTransformer[]) {
    if (!list.length) throw new Error('no providers');
  }

  get writer(): ValueTransformer {
    return this.list[0];
  }

  toStorage(storageKey: string, plain: string): string {
    const w = this.writer;
    if (w.type === 'identity') return plain;
    return w.prefix + w.seal(Buffer.from(plain, 'utf8'), storageKey).toString('base64');
  }

  /** stale: the value was not written by the first transformer (reencryption rewrites it) */
  fromStorage(storageKey: string, stored: string): { value: string; stale: boolean } {
    const errors: string[] = [];
    for (const [i, t] of this.list.entries()) {
      if (!stored.startsWith(t.prefix)) continue;
      try {
        if (t.type === 'identity') {
          t.open(Buffer.from(stored.slice(0, ENCRYPTED_PREFIX.length), 'utf8'), storageKey);
          return { value: stored, stale: i !== 0 };
        }
        // a wrong AES-CBC key passes the padding check now and then: garbage is never valid UTF-8 text
        const plain = t.open(Buffer.from(stored.slice(t.prefix.length), 'base64'), storageKey);
        return { value: utf8.decode(plain), stale: i !== 0 };
      } catch (e) {
        const msg =
          e instanceof TypeError ? 'the decrypted value is not UTF-8 text: the key does not match the one the value was written with' : (e as Error).message;
        // as upstream: a failing identity (it matches every value) gives the later ones their turn
        if (t.type === 'identity') {
          errors.push(msg);
          continue;
        }
        throw new TransformError(storageKey, msg);
      }
    }
    throw new TransformError(storageKey, errors[0] ?? 'no matching prefix found');
  }
}

/** A stored value no configured key can read: the API answers 500 with this message. */
export class TransformError extends Error {
  constructor(
    readonly storageKey: string,
    reason: string,
  ) {
    super(`unable to transform key "${storageKey}": ${reason}`);
  }
}
