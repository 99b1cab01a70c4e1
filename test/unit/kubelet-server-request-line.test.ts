// The kubelet's HTTPS server (kubelet/server/server.ts) takes long request lines, as exec commands travel in the query string.
import { loopbackKubeletServer } from '../support/kubelet-server.ts';
import test from 'ava';

test('the kubelet server takes a 20 kB request line (exec commands travel in its query string)', async (t) => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { request } = await import('node:https');
  const { issueCert, loadOrCreateCA } = await import('../../agents/control-plane/pki.ts');
  const dir = mkdtempSync(join(tmpdir(), 'gaps-kubelet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await loadOrCreateCA(join(dir, 'ca'));
  const none = async () => [];
  const cri = {
    listPodSandbox: none,
    listContainers: none,
    containerStatus: async () => {
      throw new Error('none');
    },
    exec: async () => '',
    attach: async () => '',
    portForward: async () => '',
  };
  const server = await loopbackKubeletServer(t, dir, ca.certPem, { cri: cri as never, podLogDir: join(dir, 'pods') });
  const admin = await issueCert(ca, { cn: 'admin', orgs: ['system:masters'], usage: 'client' });
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: `/healthz?pad=${'c'.repeat(20_000)}`,
        ca: readFileSync(server.servingCertFile, 'utf8'),
        servername: 'node-1',
        cert: admin.certPem,
        key: admin.keyPem,
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode!);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
  t.is(status, 200);
});
