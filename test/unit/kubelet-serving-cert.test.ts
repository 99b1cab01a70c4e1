// The kubelet's serving certificate: signed by the cluster CA when the control plane gives one,
// self-signed (with a warning) when it cannot, and a self-signed one is replaced once it can.
import { loopbackKubeletServer } from '../support/kubelet-server.ts';
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { ensureServingCert, type ServingCertIssuer, servingSans, staleReason } from '../../agents/kubelet/server/serving-cert.ts';
import type { ServerCri } from '../../agents/kubelet/server/server.ts';
import { connect } from 'node:tls';

test('CA-signed when the control plane answers, self-signed when not, replaced once it answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-kcert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const asked: string[][] = [];
  let up = false;
  const issuer: ServingCertIssuer = {
    ca: Buffer.from(ca.certPem),
    async issue(addresses) {
      asked.push(addresses);
      if (!up) throw new Error('connection refused');
      return issueCert(ca, { cn: 'system:node:n1', orgs: ['system:nodes'], sans: ['n1', ...addresses], usage: 'server' });
    },
  };
  const errors: unknown[] = [];
  const tls = join(dir, 'tls');
  t.like(await ensureServingCert(tls, 'n1', '10.0.0.5', issuer, (e) => errors.push(e)), { created: true, selfSigned: true });
  t.is(errors.length, 1);
  up = true;
  t.like(await ensureServingCert(tls, 'n1', '10.0.0.5', issuer), { created: true, selfSigned: false });
  t.like(await ensureServingCert(tls, 'n1', '10.0.0.5', issuer), { created: false, selfSigned: false });
  t.like(await ensureServingCert(tls, 'n1', '10.0.0.6', issuer), { created: true, selfSigned: false }, 'a new address: a new certificate');
  t.deepEqual(asked, [
    ['10.0.0.5', '127.0.0.1'],
    ['10.0.0.5', '127.0.0.1'],
    ['10.0.0.6', '127.0.0.1'],
  ]);
});

test('a kubelet server that started self-signed swaps in the CA-signed certificate once the control plane answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-kcert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  let up = false;
  const issuer: ServingCertIssuer = {
    ca: Buffer.from(ca.certPem),
    async issue(addresses) {
      if (!up) throw new Error('connection refused');
      return issueCert(ca, { cn: 'system:node:n1', orgs: ['system:nodes'], sans: ['n1', ...addresses], usage: 'server' });
    },
  };
  const unused = () => Promise.reject(new Error('not in this test'));
  const cri: ServerCri = { listPodSandbox: unused, listContainers: unused, containerStatus: unused, exec: unused, attach: unused, portForward: unused };
  const server = await loopbackKubeletServer(t, dir, ca.certPem, { cri, nodeName: 'n1', servingCertIssuer: issuer, servingCertRetryMs: 50 });
  const verified = () =>
    new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: server.port, ca: ca.certPem }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
  t.false(await verified(), 'self-signed at first');
  up = true;
  for (let i = 0; i < 40 && !(await verified()); i++) await new Promise((r) => setTimeout(r, 50));
  t.true(await verified(), 'verifiable against the cluster CA without a restart');
});

test('the serving certificate is self-signed, names the node, and is reused until it no longer fits', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-cert-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.deepEqual(servingSans('node-1', '10.0.0.5'), ['node-1', '10.0.0.5', 'localhost', '127.0.0.1']);
  const a = await ensureServingCert(dir, 'node-1', '10.0.0.5');
  t.true(a.created);
  t.is(staleReason(a.certPem, a.keyPem, servingSans('node-1', '10.0.0.5')), undefined);
  const b = await ensureServingCert(dir, 'node-1', '10.0.0.5');
  t.false(b.created);
  t.is(b.certPem, a.certPem);
  t.regex(staleReason(a.certPem, a.keyPem, servingSans('node-1', '10.0.0.6')) ?? '', /does not name 10\.0\.0\.6/);
  t.regex(staleReason(a.certPem, a.keyPem, [], Date.now() + 400 * 86_400_000) ?? '', /expires/);
  const c = await ensureServingCert(dir, 'node-1', '10.0.0.6');
  t.true(c.created, 'a new address gets a new certificate');
  t.is(readFileSync(join(dir, 'kubelet.crt'), 'utf8'), c.certPem);
  t.regex(staleReason(c.certPem, a.keyPem, []) ?? '', /key does not match/);
  writeFileSync(join(dir, 'kubelet.crt'), 'junk');
  t.true((await ensureServingCert(dir, 'node-1', '10.0.0.6')).created, 'an unreadable certificate is replaced');
});
