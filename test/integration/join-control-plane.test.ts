// The join endpoint of a real control plane: the node-name check asks the API server itself
// whether a Node still holds the name (install-join.test.ts covers the client side with a stand-in).
import test from 'ava';
import https from 'node:https';
import { createToken } from '../../agents/control-plane/join/store.ts';
import { type Cluster, startCluster } from './_apiserver-kit.ts';

let c: Cluster;
test.before(async () => { c = await startCluster('sqlite'); });
test.after.always(async () => { await c?.close(); });

function post(credential: string, body: unknown): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${c.url}/v1-hawser/join`, {
      method: 'POST', rejectUnauthorized: false,
      headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, message: res.statusCode === 200 ? '' : JSON.parse(text).message }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
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
