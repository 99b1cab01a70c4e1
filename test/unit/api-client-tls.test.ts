// The agents' ApiClient builds its TLS context once (agents/api/client.ts): it must still trust only
// the cluster's CA and still present its client certificate on every new connection.
import test from 'ava';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ApiClient } from '../../agents/api/client.ts';
import { ensureClientCert, ensureServingCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';

test('the client trusts its CA only and presents its certificate on each new connection', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-client-tls-'));
  const other = mkdtempSync(join(tmpdir(), 'hawser-client-tls-other-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  });
  const ca = await loadOrCreateCA(dir);
  const stranger = await loadOrCreateCA(other, 'someone-else');
  const serving = await ensureServingCert(ca, dir, 'server', ['127.0.0.1']);
  const client = await ensureClientCert(ca, dir, 'client', 'agent-a', ['group-a']);
  const seen: string[] = [];
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    seen.push((req.socket as TLSSocket).getPeerCertificate().subject.CN);
    res.setHeader('Connection', 'close'); // every request a new connection, so a new handshake
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = { server: url, ca: Buffer.from(ca.certPem), cert: Buffer.from(client.certPem), key: Buffer.from(client.keyPem) };
  const api = new ApiClient(auth);
  for (let i = 0; i < 3; i++) t.deepEqual(await api.get('/x'), {});
  t.deepEqual(seen, ['agent-a', 'agent-a', 'agent-a']);
  const wrongCa = new ApiClient({ ...auth, ca: Buffer.from(stranger.certPem) });
  await t.throwsAsync(wrongCa.get('/x'), { message: /self[- ]signed|unable to verify|certificate/i });
  t.is(seen.length, 3);
});
