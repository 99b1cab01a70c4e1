// The kubelet's HTTPS server on loopback for unit tests: a free port, its TLS dir under the test's
// temp dir, the test CA for client certificates; each test gives what it exercises (cri, pods,
// stats, serving certificates) and the server is closed when the test ends.
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { type KubeletServer, type KubeletServerOptions, startKubeletServer } from '../../agents/kubelet/server/server.ts';

export async function loopbackKubeletServer(
  t: ExecutionContext,
  dir: string,
  caPem: string,
  o: Pick<KubeletServerOptions, 'cri'> & Partial<KubeletServerOptions>,
): Promise<KubeletServer> {
  const server = await startKubeletServer({
    bindAddress: '127.0.0.1',
    port: 0,
    tlsDir: join(dir, 'tls'),
    clientCA: Buffer.from(caPem),
    nodeName: 'node-1',
    nodeIP: '127.0.0.1',
    podLogDir: dir,
    pods: () => [],
    ...o,
  });
  t.teardown(() => server.close());
  return server;
}
