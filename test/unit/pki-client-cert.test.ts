// Client certificates the control plane keeps in its data dir are reissued when the identity they
// should carry changed: the API server's kubelet client lost system:masters, and a data dir from
// before must not keep presenting it.
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureClientCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';

test('a kept client certificate for another subject is replaced, one for the same is reused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-pki-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(dir);
  const old = await ensureClientCert(ca, dir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']);
  t.is(new X509Certificate(old.certPem).subject, 'O=system:masters\nCN=kube-apiserver-kubelet-client');
  const now = await ensureClientCert(ca, dir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', []);
  t.is(new X509Certificate(now.certPem).subject, 'CN=kube-apiserver-kubelet-client');
  t.is((await ensureClientCert(ca, dir, 'apiserver-kubelet-client', 'kube-apiserver-kubelet-client', [])).certPem, now.certPem);
});
