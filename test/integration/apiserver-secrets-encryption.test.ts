// Secrets encryption at rest against a real control plane on SQLite and on etcd: what the backend
// holds (the SQLite file's bytes, etcd's raw value), what kubectl reads, key rotation through
// `hawser secrets-encrypt`'s functions, plain text from before encryption, and a wrong key.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encryptionStatus, prepareKey, reencrypt, rotateKey, rotateKeys } from '../../agents/cli/secrets-encrypt.ts';
import { providerKeys } from '../../agents/control-plane/storage/encryption-config.ts';
import { configFile, readConfig, writeConfig } from '../../agents/control-plane/storage/encryption-files.ts';
import { EtcdStore } from '../../agents/control-plane/storage/etcd.ts';
import { startCluster, type Cluster } from './_apiserver-kit.ts';

const secretKey = (name: string) => `/registry/core/secrets/default/${name}`;

/** The backend's stored value of a Secret: etcd through a second client, SQLite from the file's bytes. */
async function rawValue(c: Cluster, name: string): Promise<string | undefined> {
  if (c.etcd) {
    const raw = new EtcdStore({ endpoints: c.etcd.endpoint });
    try {
      return (await raw.get(secretKey(name)))?.value;
    } finally {
      await raw.close();
    }
  }
  return undefined;
}

/** Everything SQLite has written: the database and its write-ahead log. */
function sqliteBytes(c: Cluster): string {
  return ['state.db', 'state.db-wal']
    .map((f) => join(c.dir, f))
    .filter(existsSync)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

async function createSecret(c: Cluster, name: string): Promise<string> {
  const value = `pw-${randomBytes(12).toString('hex')}`;
  await c.ok(['create', 'secret', 'generic', name, `--from-literal=password=${value}`]);
  return value;
}

async function readSecret(c: Cluster, name: string): Promise<string> {
  const b64 = await c.ok(['get', 'secret', name, '-o', 'jsonpath={.data.password}']);
  return Buffer.from(b64, 'base64').toString();
}

const activeKey = (c: Cluster) => providerKeys(readConfig(c.dir)!.resources[0].providers[0]).keys.map((k) => k.name);

for (const backend of ['sqlite', 'etcd'] as const) {
  test.serial(`${backend}: Secrets are stored encrypted, read in plain text, and stay readable through rotations`, async (t) => {
    const c = await startCluster(backend, { secretsEncryption: true });
    try {
      t.is(statSync(configFile(c.dir)).mode & 0o777, 0o600);
      const values = new Map<string, string>();
      for (const n of ['s1', 's2', 's3']) values.set(n, await createSecret(c, n));
      const [first] = activeKey(c);
      if (backend === 'etcd') {
        const raw = (await rawValue(c, 's1'))!;
        t.true(raw.startsWith(`k8s:enc:aescbc:v1:${first}:`), raw.slice(0, 40));
        t.false(raw.includes(Buffer.from(values.get('s1')!).toString('base64')));
      } else {
        const bytes = sqliteBytes(c);
        t.true(bytes.includes(`k8s:enc:aescbc:v1:${first}:`));
        for (const v of values.values()) {
          t.false(bytes.includes(v));
          t.false(bytes.includes(Buffer.from(v).toString('base64')), 'the Secret data is not in the file');
        }
      }
      for (const [n, v] of values) t.is(await readSecret(c, n), v);

      // the three steps: prepare (read-only key), rotate (it writes), reencrypt (old one dropped)
      const prepared = prepareKey(c.dir, new Date(Date.now() + 1000));
      t.deepEqual(activeKey(c), [first, prepared]);
      t.is(rotateKey(c.dir), prepared);
      await new Promise((r) => setTimeout(r, 1500)); // the server reloads within a second
      values.set('s4', await createSecret(c, 's4'));
      if (backend === 'etcd') t.true((await rawValue(c, 's4'))!.startsWith(`k8s:enc:aescbc:v1:${prepared}:`));
      const done = await reencrypt(c.dir, { timeoutMs: 30_000 });
      t.like(done, { stage: 'reencrypt_finished', total: 4, rewritten: 3 });
      t.deepEqual(activeKey(c), [prepared]);
      t.regex(encryptionStatus(c.dir), new RegExp(`Current Rotation Stage: reencrypt_finished[\\s\\S]*Active Key Type Names: AES-CBC ${prepared}`));
      for (const [n, v] of values) t.is(await readSecret(c, n), v);

      // rotate-keys: all of it in one step
      const r = await rotateKeys(c.dir, { timeoutMs: 30_000, now: new Date(Date.now() + 2000) });
      t.like(r, { total: 4, rewritten: 4 });
      const [latest] = activeKey(c);
      t.not(latest, prepared);
      if (backend === 'etcd') for (const n of values.keys()) t.true((await rawValue(c, n))!.startsWith(`k8s:enc:aescbc:v1:${latest}:`), n);
      for (const [n, v] of values) t.is(await readSecret(c, n), v);
      // and after a restart, from the file
      await c.restart();
      for (const [n, v] of values) t.is(await readSecret(c, n), v);
    } finally {
      await c.close();
    }
  });
}

test.serial('sqlite: plain text from before encryption stays readable until reencrypted; a wrong key is a clear 500', async (t) => {
  const c = await startCluster('sqlite');
  try {
    const before = await createSecret(c, 'old');
    t.false(existsSync(configFile(c.dir)), 'off by default');
    c.opts.secretsEncryption = true;
    await c.restart();
    t.is(await readSecret(c, 'old'), before);
    t.like(await reencrypt(c.dir, { timeoutMs: 30_000 }), { total: 1, rewritten: 1 });
    t.is(await readSecret(c, 'old'), before);

    // the same key name with other bytes: an error naming the key, not garbage
    const cfg = readConfig(c.dir)!;
    const { keys } = providerKeys(cfg.resources[0].providers[0]);
    keys[0].secret = randomBytes(32).toString('base64');
    writeConfig(c.dir, cfg);
    await c.restart();
    const r = await c.kubectl(['get', 'secret', 'old', '-o', 'json']);
    t.is(r.code, 1);
    t.regex(
      r.stderr,
      /Error from server \(InternalError\): Internal error occurred: unable to transform key "\/registry\/core\/secrets\/default\/old": .*key does not match/,
    );

    // switching encryption off leaves encrypted Secrets unreadable, with upstream's identity message
    c.opts.secretsEncryption = false;
    await c.restart();
    const off = await c.kubectl(['get', 'secret', 'old']);
    t.regex(off.stderr, /identity transformer tried to read encrypted data/);
  } finally {
    await c.close();
  }
});
