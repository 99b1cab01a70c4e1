// The join endpoint of a real control plane: the node-name check asks the API server itself
// whether a Node still holds the name (install-join.test.ts covers the client side with a stand-in).
import test from 'ava';
import https from 'node:https';
import { createToken } from '../../agents/control-plane/join/store.ts';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './_apiserver-kit.ts';
import { fileCluster } from './_file-cluster.ts';

/** path under dir -> mode (octal), for every file */
function privateFiles(dir: string, sub = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (rel === '.kube') continue; // kubectl's cache: the test kit runs kubectl with HOME here
    if (e.isDirectory()) Object.assign(out, privateFiles(dir, rel));
    else out[rel] = (statSync(join(dir, rel)).mode & 0o777).toString(8);
  }
  return out;
}

let c: Cluster;
fileCluster((cluster) => {
  c = cluster;
});

interface Reply {
  status: number;
  message: string;
  reason?: string;
  retryAfter?: string;
  details?: { retryAfterSeconds?: number };
}

/** POST /v1-hawser/join; `from` is the client's loopback source address (each test its own, as the server throttles per address). */
function post(credential: string, body: unknown, from = '127.0.0.1'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${c.url}/v1-hawser/join`,
      {
        method: 'POST',
        rejectUnauthorized: false,
        localAddress: from,
        headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          const st = res.statusCode === 200 ? {} : JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, message: st.message ?? '', reason: st.reason, details: st.details, retryAfter: res.headers['retry-after'] });
        });
      },
    );
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
}

test('a registered Node keeps its name from other passwords; deleting the Node frees it', async (t) => {
  const { token } = await createToken(c.opts.dataDir, { ttlMs: 600_000 });
  const cred = token.split('::')[1];
  const mine = 'a'.repeat(32);
  const theirs = 'b'.repeat(32);
  t.is((await post(cred, { nodeName: 'jn1', nodePassword: mine })).status, 200);
  await c.ok(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'jn1' } }) });
  t.is((await post(cred, { nodeName: 'jn1', nodePassword: mine })).status, 200, 'the same machine joins again');
  const refused = await post(cred, { nodeName: 'jn1', nodePassword: theirs });
  t.is(refused.status, 403);
  t.regex(refused.message, /node jn1 is already in the cluster/);
  await c.ok(['delete', 'node', 'jn1']);
  t.is((await post(cred, { nodeName: 'jn1', nodePassword: theirs })).status, 200, 'the name is free once its Node is gone');
});

test('a join body over 16 KiB is answered 413 RequestEntityTooLarge, not a reset connection', async (t) => {
  const { token } = await createToken(c.opts.dataDir, { ttlMs: 600_000 });
  const r = await post(token.split('::')[1], JSON.stringify({ nodeName: 'big', nodePassword: 'x'.repeat(20 * 1024) }), '127.0.0.3');
  t.like(r, { status: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 16384' });
});

test('wrong tokens are throttled per source address with 429 and Retry-After, the right one too while it lasts', async (t) => {
  const { token } = await createToken(c.opts.dataDir, { ttlMs: 600_000 });
  const good = token.split('::')[1];
  const wrong = `${good.split('.')[0]}.${'0'.repeat(16)}`;
  const from = '127.0.0.4';
  const replies = [];
  for (let i = 0; i < 30; i++) replies.push(await post(wrong, {}, from));
  const codes = replies.map((r) => r.status);
  t.deepEqual(codes.slice(0, 10), Array(10).fill(401), 'a burst of mistakes is answered');
  t.true(
    codes.slice(12).every((s) => s === 429),
    codes.join(' '),
  );
  const limited = replies[29];
  t.like(limited, { reason: 'TooManyRequests', retryAfter: '1', details: { retryAfterSeconds: 1 } });
  t.regex(limited.message, /too many refused join attempts from 127\.0\.0\.4/);
  t.is((await post(good, { nodeName: 'th1', nodePassword: 'c'.repeat(32) }, from)).status, 429, 'no answer to a guess while throttled');
  t.is((await post(good, { nodeName: 'th1', nodePassword: 'c'.repeat(32) }, '127.0.0.5')).status, 200, 'other addresses are not held up');
  await new Promise((r) => setTimeout(r, 1100));
  t.is((await post(good, { nodeName: 'th1', nodePassword: 'c'.repeat(32) }, from)).status, 200, 'the budget comes back');
});

test('the join and token records are readable by root alone', async (t) => {
  const { token } = await createToken(c.opts.dataDir, { ttlMs: 600_000 });
  t.is((await post(token.split('::')[1], { nodeName: 'modes1', nodePassword: 'd'.repeat(32) }, '127.0.0.6')).status, 200);
  const modes = privateFiles(c.opts.dataDir);
  for (const f of ['joined-nodes.json', 'state.db', 'state.db-wal', 'admin.kubeconfig', 'tls/ca.key', 'tls/admin.key', 'tls/apiserver.key'])
    t.is(modes[f], '600', f);
  t.is(modes['tls/ca.crt'], '644');
  const loose = Object.entries(modes).filter(([f, m]) => m !== '600' && !f.endsWith('.crt'));
  t.deepEqual(loose, [], 'every file but the certificates is 0600');
});
