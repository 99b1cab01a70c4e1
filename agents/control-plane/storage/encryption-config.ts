// Upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1) as the control plane reads it
// from its data dir (k3s keeps it at server/cred/encryption-config.json): which resources are
// encrypted, by which providers and keys, first one writing. Parsed with own-property reads only.
import { randomBytes } from 'node:crypto';
import YAML from 'yaml';
import { aescbc, aesgcm, identity, PrefixTransformers, type ProviderType, type ValueTransformer } from './encryption-providers.ts';

export interface EncryptionKey {
  name: string;
  /** base64 of the key bytes */
  secret: string;
}
export type ProviderConfig = { aescbc: { keys: EncryptionKey[] } } | { aesgcm: { keys: EncryptionKey[] } } | { identity: Record<string, never> };
export interface ResourceConfig {
  resources: string[];
  providers: ProviderConfig[];
}
export interface EncryptionConfiguration {
  apiVersion: 'apiserver.config.k8s.io/v1';
  kind: 'EncryptionConfiguration';
  resources: ResourceConfig[];
}

/** A resource's key prefix and the transformers of its values. */
export interface ResourceTransformer {
  prefix: string;
  transformers: PrefixTransformers;
}

type Json = unknown;
const own = (o: Json, k: string): Json => (o !== null && typeof o === 'object' && Object.hasOwn(o, k) ? (o as Record<string, Json>)[k] : undefined);
const isList = (v: Json): v is Json[] => Array.isArray(v);

function parseKeys(type: string, v: Json, where: string): EncryptionKey[] {
  const keys = own(v, 'keys');
  if (!isList(keys) || !keys.length) throw new Error(`${where}.${type}.keys: Required value: at least one key must be provided`);
  const names = new Set<string>();
  return keys.map((k, i) => {
    const name = own(k, 'name');
    const secret = own(k, 'secret');
    const at = `${where}.${type}.keys[${i}]`;
    if (typeof name !== 'string' || !name) throw new Error(`${at}.name: Required value`);
    if (name.includes(':')) throw new Error(`${at}.name: Invalid value: "${name}": should not contain ':'`);
    if (names.has(name)) throw new Error(`${at}.name: Duplicate value: "${name}"`);
    names.add(name);
    if (typeof secret !== 'string' || !secret) throw new Error(`${at}.secret: Required value`);
    return { name, secret };
  });
}

function parseProvider(p: Json, where: string): ProviderConfig {
  const kinds = p !== null && typeof p === 'object' ? Object.keys(p) : [];
  if (kinds.length !== 1) throw new Error(`${where}: Invalid value: exactly one provider type must be given, not ${JSON.stringify(kinds)}`);
  const [type] = kinds;
  if (type === 'identity') return { identity: {} };
  if (type === 'aescbc') return { aescbc: { keys: parseKeys(type, own(p, type), where) } };
  if (type === 'aesgcm') return { aesgcm: { keys: parseKeys(type, own(p, type), where) } };
  if (type === 'secretbox')
    throw new Error(`${where}.secretbox: Unsupported value: hawser has no XSalsa20-Poly1305 (node:crypto lacks it): use aescbc or aesgcm`);
  throw new Error(`${where}: Unsupported value: "${type}": supported providers are aescbc, aesgcm and identity`);
}

/** The configuration in a file's text (YAML or JSON), validated, or an error naming the field. */
export function parseEncryptionConfig(text: string): EncryptionConfiguration {
  const doc: Json = YAML.parse(text);
  if (own(doc, 'apiVersion') !== 'apiserver.config.k8s.io/v1' || own(doc, 'kind') !== 'EncryptionConfiguration')
    throw new Error('not an EncryptionConfiguration of apiVersion apiserver.config.k8s.io/v1');
  const resources = own(doc, 'resources');
  if (!isList(resources) || !resources.length) throw new Error('resources: Required value: at least one resource must be given');
  const seen = new Set<string>();
  const out = resources.map((r, i): ResourceConfig => {
    const names = own(r, 'resources');
    const providers = own(r, 'providers');
    const where = `resources[${i}]`;
    if (!isList(names) || !names.length || !names.every((n): n is string => typeof n === 'string' && n !== ''))
      throw new Error(`${where}.resources: Required value: a list of resource names`);
    for (const n of names) {
      if (n.includes('*')) throw new Error(`${where}.resources: Unsupported value: "${n}": name each resource, wildcards are not supported`);
      if (seen.has(n)) throw new Error(`${where}.resources: Duplicate value: "${n}"`);
      seen.add(n);
    }
    if (!isList(providers) || !providers.length) throw new Error(`${where}.providers: Required value: at least one provider must be given`);
    return { resources: names, providers: providers.map((p, j) => parseProvider(p, `${where}.providers[${j}]`)) };
  });
  const cfg: EncryptionConfiguration = { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: out };
  buildTransformers(cfg); // key sizes and base64 are checked by building
  return cfg;
}

/** The type and key list of a provider entry (identity: no keys). */
export function providerKeys(p: ProviderConfig): { type: ProviderType; keys: EncryptionKey[] } {
  if ('aescbc' in p) return { type: 'aescbc', keys: p.aescbc.keys };
  if ('aesgcm' in p) return { type: 'aesgcm', keys: p.aesgcm.keys };
  return { type: 'identity', keys: [] };
}

function keyBytes(k: EncryptionKey): Buffer {
  const b = Buffer.from(k.secret, 'base64');
  if (b.toString('base64').replace(/=+$/, '') !== k.secret.replace(/=+$/, '')) throw new Error(`key "${k.name}": secret is not valid base64`);
  return b;
}

function transformersOf(providers: ProviderConfig[]): ValueTransformer[] {
  return providers.flatMap((p) => {
    const { type, keys } = providerKeys(p);
    if (type === 'identity') return [identity];
    const make = type === 'aescbc' ? aescbc : aesgcm;
    return keys.map((k) => {
      try {
        return make(k.name, keyBytes(k));
      } catch (e) {
        throw new Error(`${type} key "${k.name}": ${(e as Error).message}`);
      }
    });
  });
}

/** `secrets` -> /registry/core/secrets/, `deployments.apps` -> /registry/apps/deployments/ (registry.ts storageKey). */
export function resourcePrefix(resource: string): string {
  const dot = resource.indexOf('.');
  const plural = dot < 0 ? resource : resource.slice(0, dot);
  const group = dot < 0 ? '' : resource.slice(dot + 1);
  return `/registry/${group || 'core'}/${plural}/`;
}

export function buildTransformers(cfg: EncryptionConfiguration): ResourceTransformer[] {
  return cfg.resources.flatMap((r) => {
    const transformers = new PrefixTransformers(transformersOf(r.providers));
    return r.resources.map((name) => ({ prefix: resourcePrefix(name), transformers }));
  });
}

/** With encryption off, Secrets are plain text and an encrypted one is refused with a clear error. */
export const PLAINTEXT: ResourceTransformer[] = [{ prefix: resourcePrefix('secrets'), transformers: new PrefixTransformers([identity]) }];

/** A new random 32-byte key, named as k3s names rotated keys. */
export function newKey(type: 'aescbc' | 'aesgcm', now = new Date()): EncryptionKey {
  return { name: `${type}key-${now.toISOString().replace(/:/g, '')}`, secret: randomBytes(32).toString('base64') };
}

/** What --secrets-encryption writes on first start: an AES-CBC key (k3s's default), identity to read older plain text. */
export function defaultEncryptionConfig(): EncryptionConfiguration {
  return {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [newKey('aescbc')] } }, { identity: {} }] }],
  };
}
