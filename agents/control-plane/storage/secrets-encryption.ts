// Secrets encryption in the running control plane (`--secrets-encryption`, off by default as in
// upstream and k3s): wraps the store in an EncryptingStore, writes a first key on first start,
// and every second picks up what `hawser secrets-encrypt` changed in the data dir: a new
// configuration (prepare, rotate: no restart needed) and a reencryption request, which it
// carries out, then drops the keys nothing is written with any more.
import type { Logger } from '../../api/log.ts';
import { EncryptingStore } from './encrypting-store.ts';
import {
  buildTransformers,
  defaultEncryptionConfig,
  PLAINTEXT,
  providerKeys,
  type EncryptionConfiguration,
  type ProviderConfig,
  type ResourceTransformer,
} from './encryption-config.ts';
import { PrefixTransformers } from './encryption-providers.ts';
import { configFile, fileStamp, readConfig, readState, writeConfig, writeState } from './encryption-files.ts';
import type { Store } from './types.ts';

export interface SecretsEncryption {
  store: EncryptingStore;
  /** one pass: reload a changed configuration, carry out a pending reencryption */
  check(): Promise<void>;
  /** stops checking, after a reencryption under way has finished */
  stop(): Promise<void>;
}

/** After reencryption only the writing key is needed (and identity, to read what predates encryption). */
export function withoutOldKeys(cfg: EncryptionConfiguration): EncryptionConfiguration {
  return {
    ...cfg,
    resources: cfg.resources.map((r) => {
      const [first, ...rest] = r.providers;
      const { type, keys } = providerKeys(first);
      const kept: ProviderConfig =
        type === 'aescbc' ? { aescbc: { keys: keys.slice(0, 1) } } : type === 'aesgcm' ? { aesgcm: { keys: keys.slice(0, 1) } } : first;
      return { ...r, providers: [kept, ...rest.filter((p) => type !== 'identity' && 'identity' in p)] };
    }),
  };
}

/**
 * The new transformers, each followed by the keys it no longer lists: a watch event written just
 * before the keys were dropped (a reencryption's own, whose previous value is under the old key)
 * can still be read by a watcher that lags behind. Kept in memory only, until the process ends.
 */
export function withRetired(next: ResourceTransformer[], prev: readonly ResourceTransformer[]): ResourceTransformer[] {
  return next.map((r) => {
    const old = prev.find((p) => p.prefix === r.prefix)?.transformers.list ?? [];
    const retired = old.filter((t) => !r.transformers.list.some((n) => n.prefix === t.prefix));
    return retired.length ? { prefix: r.prefix, transformers: new PrefixTransformers([...r.transformers.list, ...retired]) } : r;
  });
}

export function startSecretsEncryption(inner: Store, o: { dataDir: string; enabled: boolean; log: Logger; intervalMs?: number }): SecretsEncryption {
  if (!o.enabled) {
    if (readConfig(o.dataDir))
      o.log.warn(
        { file: configFile(o.dataDir) },
        'an encryption configuration exists but --secrets-encryption is off: Secrets are written in plain text and encrypted ones cannot be read',
      );
    const store = new EncryptingStore(inner, PLAINTEXT);
    return { store, check: async () => undefined, stop: async () => undefined };
  }
  let cfg = readConfig(o.dataDir);
  if (!cfg) {
    cfg = defaultEncryptionConfig();
    writeConfig(o.dataDir, cfg);
    writeState(o.dataDir, { stage: 'start' });
    o.log.info({ file: configFile(o.dataDir) }, 'secrets encryption enabled with a new AES-CBC key');
  }
  const store = new EncryptingStore(inner, buildTransformers(cfg));
  let stamp = fileStamp(configFile(o.dataDir));
  let running: Promise<void> | undefined;

  const reload = () => {
    const now = fileStamp(configFile(o.dataDir));
    if (now === stamp) return;
    stamp = now;
    try {
      const next = readConfig(o.dataDir);
      if (!next) throw new Error('the file was removed');
      store.setResources(buildTransformers(next));
      cfg = next;
      o.log.info({ file: configFile(o.dataDir) }, 'encryption configuration reloaded');
    } catch (e) {
      o.log.error({ err: e }, 'encryption configuration not reloaded: the previous one stays in force');
    }
  };

  const reencrypt = async () => {
    const state = readState(o.dataDir);
    if (state.stage !== 'reencrypt_request') return;
    writeState(o.dataDir, { ...state, stage: 'reencrypt_active' });
    try {
      const r = await store.reencrypt();
      const pruned = withoutOldKeys(cfg!);
      writeConfig(o.dataDir, pruned);
      stamp = fileStamp(configFile(o.dataDir));
      cfg = pruned;
      store.setResources(withRetired(buildTransformers(pruned), store.currentResources()));
      // history rows still hold values under the dropped keys: forget them, as a watch from before
      // the rotation could not read them any more (such watchers get 410 Gone and relist)
      await store.compact(await store.currentRevision());
      writeState(o.dataDir, { stage: 'reencrypt_finished', requestedAt: state.requestedAt, finishedAt: new Date().toISOString(), ...r });
      o.log.info(r, 'secrets reencrypted with the active key; older keys dropped');
    } catch (e) {
      writeState(o.dataDir, { stage: 'reencrypt_failed', requestedAt: state.requestedAt, finishedAt: new Date().toISOString(), error: (e as Error).message });
      o.log.error({ err: e }, 'secrets reencryption failed; the keys are kept');
    }
  };

  const check = () =>
    (running ??= (async () => {
      try {
        reload();
        await reencrypt();
      } finally {
        running = undefined;
      }
    })());
  const timer = setInterval(() => void check().catch((e: unknown) => o.log.error({ err: e }, 'secrets encryption check failed')), o.intervalMs ?? 1000);
  timer.unref();
  void check().catch((e: unknown) => o.log.error({ err: e }, 'secrets encryption check failed'));
  return {
    store,
    check,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
