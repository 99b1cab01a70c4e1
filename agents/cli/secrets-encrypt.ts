// `hawser secrets-encrypt status|prepare|rotate|reencrypt|rotate-keys`, k3s's verbs, run on the
// server host against its data dir: prepare adds a key every server can read with, rotate makes
// it the writing key, reencrypt asks the running control plane to rewrite every Secret under it
// and drop the older keys; rotate-keys does the three in one step. The control plane picks up
// each change within a second (no restart).
import { newKey, providerKeys, type EncryptionConfiguration, type ProviderConfig } from '../control-plane/storage/encryption-config.ts';
import { readConfig, readState, writeConfig, writeState, type EncryptionState } from '../control-plane/storage/encryption-files.ts';

const TYPE_NAMES = { aescbc: 'AES-CBC', aesgcm: 'AES-GCM', identity: 'Identity' } as const;

function enabledConfig(dataDir: string): EncryptionConfiguration {
  const cfg = readConfig(dataDir);
  if (!cfg) throw new Error(`secrets encryption is not enabled in ${dataDir}: start the control plane with --secrets-encryption`);
  return cfg;
}

/** The first provider of each resource entry with its keys changed by `f` (identity entries stay). */
function withWriterKeys(
  cfg: EncryptionConfiguration,
  f: (keys: ReturnType<typeof providerKeys>) => ReturnType<typeof providerKeys>['keys'],
): EncryptionConfiguration {
  return {
    ...cfg,
    resources: cfg.resources.map((r) => {
      const [first, ...rest] = r.providers;
      const pk = providerKeys(first);
      if (pk.type === 'identity') return r;
      const keys = f(pk);
      const next: ProviderConfig = pk.type === 'aescbc' ? { aescbc: { keys } } : { aesgcm: { keys } };
      return { ...r, providers: [next, ...rest] };
    }),
  };
}

export function encryptionStatus(dataDir: string): string {
  const cfg = readConfig(dataDir);
  if (!cfg) return 'Encryption Status: Disabled\n';
  const s = readState(dataDir);
  const lines = ['Encryption Status: Enabled', `Current Rotation Stage: ${s.stage}`];
  const active = cfg.resources.map((r) => providerKeys(r.providers[0])).map((p) => `${TYPE_NAMES[p.type]}${p.keys[0] ? ` ${p.keys[0].name}` : ''}`);
  lines.push(`Active Key Type Names: ${[...new Set(active)].join(', ')}`);
  for (const r of cfg.resources) {
    const keys = r.providers.flatMap((p) => {
      const pk = providerKeys(p);
      return pk.type === 'identity' ? ['identity'] : pk.keys.map((k) => `${pk.type}:${k.name}`);
    });
    lines.push(`Keys for ${r.resources.join(', ')} (first one writes): ${keys.join(', ')}`);
  }
  if (s.finishedAt) {
    lines.push(
      s.error ? `Last reencryption: failed at ${s.finishedAt}: ${s.error}` : `Last reencryption: ${s.finishedAt}, ${s.rewritten} of ${s.total} rewritten`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Adds a new key behind the writing one: every server can read with it before anything is written with it. */
export function prepareKey(dataDir: string, now = new Date()): string {
  const cfg = enabledConfig(dataDir);
  let added = '';
  const next = withWriterKeys(cfg, ({ type, keys }) => {
    if (keys.length > 1) throw new Error(`a key is already prepared (${keys[1].name}): run "hawser secrets-encrypt rotate"`);
    const k = newKey(type === 'aesgcm' ? 'aesgcm' : 'aescbc', now);
    added = k.name;
    return [keys[0], k];
  });
  if (!added) throw new Error('no resource is encrypted (identity is the first provider): nothing to prepare');
  writeConfig(dataDir, next);
  writeState(dataDir, { stage: 'prepare' });
  return added;
}

/** Makes the prepared key the writing one; the old one stays for reading until reencrypt. */
export function rotateKey(dataDir: string): string {
  const cfg = enabledConfig(dataDir);
  let active = '';
  const next = withWriterKeys(cfg, ({ keys }) => {
    if (keys.length < 2) throw new Error('no key is prepared: run "hawser secrets-encrypt prepare" first');
    active = keys[1].name;
    return [keys[1], keys[0], ...keys.slice(2)];
  });
  if (!active) throw new Error('no resource is encrypted (identity is the first provider): nothing to rotate');
  writeConfig(dataDir, next);
  writeState(dataDir, { stage: 'rotate' });
  return active;
}

/** Asks the running control plane to rewrite every Secret with the writing key, and waits for it. */
export async function reencrypt(dataDir: string, o: { timeoutMs: number; pollMs?: number }): Promise<EncryptionState> {
  enabledConfig(dataDir);
  const requestedAt = new Date().toISOString();
  writeState(dataDir, { stage: 'reencrypt_request', requestedAt });
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, o.pollMs ?? 200));
    const s = readState(dataDir);
    if (s.requestedAt !== requestedAt) throw new Error('another reencryption request replaced this one');
    if (s.stage === 'reencrypt_finished') return s;
    if (s.stage === 'reencrypt_failed') throw new Error(`reencryption failed: ${s.error}`);
  }
  throw new Error(
    `the control plane did not finish the reencryption within ${o.timeoutMs / 1000} s: is it running with --secrets-encryption? The request stays pending`,
  );
}

/** prepare + rotate + reencrypt at once: safe on a single server, which reloads the keys before it reencrypts. */
export async function rotateKeys(dataDir: string, o: { timeoutMs: number; pollMs?: number; now?: Date }): Promise<EncryptionState> {
  const cfg = enabledConfig(dataDir);
  writeConfig(
    dataDir,
    withWriterKeys(cfg, ({ type, keys }) => [newKey(type === 'aesgcm' ? 'aesgcm' : 'aescbc', o.now), ...keys]),
  );
  return reencrypt(dataDir, o);
}
