// Encryption at rest below the API: the providers' formats, key rotation, clear errors for a
// wrong key, the configuration file's validation, and the encrypting store over SQLite (the
// store contract still holds with every value encrypted; the backend holds only ciphertext).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncryptingStore } from '../../agents/control-plane/storage/encrypting-store.ts';
import {
  buildTransformers,
  parseEncryptionConfig,
  resourcePrefix,
  type EncryptionConfiguration,
} from '../../agents/control-plane/storage/encryption-config.ts';
import { aescbc, aesgcm, identity, PrefixTransformers } from '../../agents/control-plane/storage/encryption-providers.ts';
import { storeConformance } from '../support/store-conformance.ts';
import { SqliteStore } from '../../agents/control-plane/storage/sqlite.ts';
import { withoutOldKeys, withRetired } from '../../agents/control-plane/storage/secrets-encryption.ts';

const KEY = '/registry/core/secrets/default/s1';
const PLAIN = '{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}';
const k32 = () => randomBytes(32);

for (const make of [aescbc, aesgcm]) {
  const type = make('x', k32()).type;
  test(`${type}: writes the upstream prefix and ciphertext, reads it back`, (t) => {
    const tr = new PrefixTransformers([make('key1', k32())]);
    const stored = tr.toStorage(KEY, PLAIN);
    t.true(stored.startsWith(`k8s:enc:${type}:v1:key1:`));
    t.false(stored.includes('aHVudGVyMg'));
    t.notDeepEqual(tr.toStorage(KEY, PLAIN), stored, 'a fresh IV or nonce per write');
    t.deepEqual(tr.fromStorage(KEY, stored), { value: PLAIN, stale: false });
  });

  test(`${type}: a key of the same name with other bytes is a clear error, never garbage`, (t) => {
    const stored = new PrefixTransformers([make('key1', k32())]).toStorage(KEY, PLAIN);
    const other = new PrefixTransformers([make('key1', k32())]);
    // many tries: a wrong AES-CBC key passes the padding check about once in 256
    for (let i = 0; i < 300; i++) {
      const s = new PrefixTransformers([make('key1', k32())]).toStorage(KEY, PLAIN + ' '.repeat(i % 7));
      const e = t.throws(() => other.fromStorage(KEY, s));
      t.regex(e!.message, /^unable to transform key "\/registry\/core\/secrets\/default\/s1": .*key does not match/);
    }
    t.throws(() => other.fromStorage(KEY, stored), { message: /key does not match/ });
  });
}

test('aesgcm binds a value to its storage key, as upstream', (t) => {
  const tr = new PrefixTransformers([aesgcm('k', k32())]);
  const stored = tr.toStorage(KEY, PLAIN);
  t.throws(() => tr.fromStorage('/registry/core/secrets/default/other', stored), { message: /authentication failed/ });
});

test('rotation: the first key writes, every listed key reads, and a value from a later one is stale', (t) => {
  const old = aescbc('old', k32());
  const fresh = aesgcm('new', k32());
  const before = new PrefixTransformers([old, identity]);
  const after = new PrefixTransformers([fresh, old, identity]);
  const written = before.toStorage(KEY, PLAIN);
  t.deepEqual(after.fromStorage(KEY, written), { value: PLAIN, stale: true });
  t.true(after.toStorage(KEY, PLAIN).startsWith('k8s:enc:aesgcm:v1:new:'));
  // plain text from before encryption is read through identity, and is stale too
  t.deepEqual(after.fromStorage(KEY, PLAIN), { value: PLAIN, stale: true });
  // a dropped key: no provider claims the value
  t.throws(() => new PrefixTransformers([fresh]).fromStorage(KEY, written), { message: /no matching prefix found/ });
});

test("identity refuses encrypted data with upstream's message, and writes plain text first", (t) => {
  const enc = new PrefixTransformers([aescbc('k', k32())]).toStorage(KEY, PLAIN);
  t.throws(() => new PrefixTransformers([identity]).fromStorage(KEY, enc), { message: /identity transformer tried to read encrypted data/ });
  t.is(new PrefixTransformers([identity, aescbc('k', k32())]).toStorage(KEY, PLAIN), PLAIN);
});

const cfgOf = (providers: unknown[], resources = ['secrets']) =>
  JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources, providers }],
  });

test("configuration: upstream's format in YAML or JSON, with each mistake named", (t) => {
  const secret = k32().toString('base64');
  const yaml = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets, configmaps, deployments.apps]
    providers:
      - aesgcm: {keys: [{name: key1, secret: ${secret}}]}
      - identity: {}
`;
  const cfg = parseEncryptionConfig(yaml);
  t.deepEqual(
    buildTransformers(cfg).map((r) => r.prefix),
    ['/registry/core/secrets/', '/registry/core/configmaps/', '/registry/apps/deployments/'],
  );
  t.is(resourcePrefix('secrets'), '/registry/core/secrets/');
  const bad: [string, RegExp][] = [
    [cfgOf([{ aescbc: { keys: [{ name: 'k', secret: randomBytes(10).toString('base64') }] } }]), /got 10, expected one of \[16 24 32\]/],
    [cfgOf([{ aescbc: { keys: [] } }]), /keys: Required value/],
    [cfgOf([{ aescbc: { keys: [{ name: 'a:b', secret }] } }]), /should not contain ':'/],
    [
      cfgOf([
        {
          aescbc: {
            keys: [
              { name: 'a', secret },
              { name: 'a', secret },
            ],
          },
        },
      ]),
      /Duplicate value: "a"/,
    ],
    [cfgOf([{ secretbox: { keys: [{ name: 'a', secret }] } }]), /secretbox: Unsupported value/],
    [cfgOf([{ kms: {} }]), /Unsupported value: "kms"/],
    [cfgOf([{ identity: {} }], ['*.*']), /wildcards are not supported/],
    [cfgOf([{ aescbc: { keys: [{ name: 'a', secret: 'not base64!' }] } }]), /not valid base64/],
    ['{"apiVersion":"v1","kind":"Config"}', /not an EncryptionConfiguration/],
    [
      `{"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration","resources":[{"resources":["secrets"],"providers":[{"__proto__":{"identity":{}}}]}]}`,
      /Unsupported value: "__proto__"/,
    ],
  ];
  for (const [text, re] of bad) t.throws(() => parseEncryptionConfig(text), { message: re }, text);
});

test('after reencryption only the writing key (and identity) is kept', (t) => {
  const key = (name: string) => ({ name, secret: k32().toString('base64') });
  const active = key('new');
  const cfg: EncryptionConfiguration = {
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [active, key('old')] } }, { aesgcm: { keys: [key('g')] } }, { identity: {} }] }],
  };
  t.deepEqual(withoutOldKeys(cfg).resources[0].providers, [{ aescbc: { keys: [active] } }, { identity: {} }]);
});

test('dropped keys stay readable in memory, behind identity, for watch events written before the drop', (t) => {
  const old = aescbc('old', k32());
  const written = new PrefixTransformers([old]).toStorage(KEY, PLAIN);
  const prefix = resourcePrefix('secrets');
  const next = [{ prefix, transformers: new PrefixTransformers([aescbc('new', k32()), identity]) }];
  t.throws(() => next[0].transformers.fromStorage(KEY, written), { message: /identity transformer tried to read encrypted data/ });
  const merged = withRetired(next, [{ prefix, transformers: new PrefixTransformers([aescbc('new', k32()), old, identity]) }]);
  t.deepEqual(
    merged[0].transformers.list.map((x) => x.name),
    ['new', '', 'old'],
  );
  t.deepEqual(merged[0].transformers.fromStorage(KEY, written), { value: PLAIN, stale: true });
});

function encryptedSqlite(t: { teardown(fn: () => void | Promise<void>): void }, o: { pageSize?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-enc-'));
  const raw = new SqliteStore(join(dir, 'state.db'), o);
  // every key is encrypted here, so the whole store contract runs through the transformer
  const store = new EncryptingStore(raw, [{ prefix: '', transformers: new PrefixTransformers([aesgcm('k', k32())]) }]);
  t.teardown(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { raw, store };
}

storeConformance(test, async (t, o) => encryptedSqlite(t, o).store, 'encrypted sqlite');

test('encrypting store: the backend holds ciphertext, watches and deletes hand out plain text, reencrypt rewrites stale values once', async (t) => {
  const { raw } = encryptedSqlite(t);
  const k1 = new PrefixTransformers([aescbc('k1', k32()), identity]);
  const store = new EncryptingStore(raw, [{ prefix: '/registry/core/secrets/', transformers: k1 }]);
  await raw.create('/registry/core/secrets/ns/plain', PLAIN); // from before encryption
  const a = await store.create('/registry/core/secrets/ns/a', PLAIN);
  await store.create('/registry/core/configmaps/ns/c', PLAIN);
  t.is(a.value, PLAIN);
  t.true((await raw.get('/registry/core/secrets/ns/a'))!.value.startsWith('k8s:enc:aescbc:v1:k1:'));
  t.is((await raw.get('/registry/core/configmaps/ns/c'))!.value, PLAIN, 'resources not listed stay plain');
  t.deepEqual(
    (await store.list('/registry/')).items.map((kv) => kv.value),
    [PLAIN, PLAIN, PLAIN],
  );

  const w = store.watch('/registry/core/secrets/', a.modRevision);
  const upd = await store.update('/registry/core/secrets/ns/a', PLAIN.replace('aHVu', 'eHh4'), a.modRevision);
  const del = await store.delete('/registry/core/secrets/ns/a');
  t.is(del.value, upd.value);
  const events = [];
  for await (const ev of w) {
    events.push(ev);
    if (events.length === 2) break;
  }
  w.close();
  t.deepEqual(
    events.map((e) => [e.type, e.kv.value, e.prev?.value]),
    [
      ['put', upd.value, PLAIN],
      ['delete', upd.value, upd.value],
    ],
  );

  await store.create('/registry/core/secrets/ns/b', PLAIN);
  const k2 = new PrefixTransformers([aesgcm('k2', k32()), ...k1.list]);
  store.setResources([{ prefix: '/registry/core/secrets/', transformers: k2 }]);
  t.deepEqual(await store.reencrypt(), { total: 2, rewritten: 2 });
  t.deepEqual(await store.reencrypt(), { total: 2, rewritten: 0 });
  for (const kv of (await raw.list('/registry/core/secrets/')).items) t.true(kv.value.startsWith('k8s:enc:aesgcm:v1:k2:'), kv.key);
});
