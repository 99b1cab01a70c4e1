// The installed server runs from what `hawser install --role server` put on the host, and nothing
// else: its bundle, the runtime node_modules the install copies and the node binary it ships. The
// install into a throwaway root sits under /tmp, so no node_modules of this repository is on the
// installed bundle's module path, as on a VM. A static import of etcd3 once made every installed
// control plane (and `hawser kubeconfig`) die with "Cannot find module 'etcd3'" before serving.
import test from 'ava';
import { spawn, execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseKubeconfig } from '../../agents/api/kubeconfig.ts';
import { install } from '../../agents/cli/install/install.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const built = existsSync(join(REPO, 'dist/hawser.cjs'));
const tmp = mkdtempSync(join(tmpdir(), 'hawser-install-server-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const freePort = (): Promise<number> => new Promise((res, rej) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const a = s.address();
    s.close(() => (a && typeof a === 'object' ? res(a.port) : rej(new Error('no port'))));
  });
});

function getReadyz(kubeconfig: string, url: string): Promise<{ status: number; body: string }> {
  const kc = parseKubeconfig(readFileSync(kubeconfig, 'utf8'));
  return new Promise((res, rej) => {
    const req = https.get(`${url}/readyz`, { ca: kc.ca, cert: kc.cert, key: kc.key, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.on('timeout', () => req.destroy(new Error('readyz timed out')));
  });
}

test.serial('the installed control plane starts from the installed files alone and serves; the installed `hawser kubeconfig` works', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  const root = join(tmp, 'root');
  mkdirSync(root);
  await install({ role: 'server', root, source: REPO });
  const node = join(root, 'usr/local/lib/hawser/bin/node');
  const bundle = join(root, 'usr/local/lib/hawser/dist/hawser.cjs');
  t.true(existsSync(node) && existsSync(bundle), 'install wrote the node binary and the bundle');

  const dataDir = join(tmp, 'data');
  const port = await freePort();
  const args = [bundle, 'control-plane', '--data-dir', dataDir, '--bind-address', '127.0.0.1', '--port', String(port), '--cluster-dns', ''];
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HAWSER_LOG_LEVEL: 'warn' };
  const cp = spawn(node, args, { cwd: tmp, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  cp.stderr.on('data', (d) => (stderr += d));
  t.teardown(() => { cp.kill('SIGKILL'); });
  const exited = new Promise<number | null>((r) => cp.on('exit', (c) => r(c)));

  const url = `https://127.0.0.1:${port}`;
  const admin = join(dataDir, 'admin.kubeconfig');
  const deadline = Date.now() + 30_000;
  let ready: { status: number; body: string } | undefined;
  while (Date.now() < deadline && !ready) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 300))]);
    if (early !== 'running') return t.fail(`the installed control plane exited (${String(early)}):\n${stderr}`);
    if (existsSync(admin)) ready = await getReadyz(admin, url).catch(() => undefined);
  }
  t.is(ready?.status, 200, `readyz from the installed server; its stderr:\n${stderr}`);
  t.is(ready?.body, 'ok');

  // `hawser kubeconfig` is what an admin runs on the server to hand out credentials
  const out = join(tmp, 'viewer.kubeconfig');
  await promisify(execFile)(node, [bundle, 'kubeconfig', '--user', 'jane', '--data-dir', dataDir, '--server', url, '--out', out], { cwd: tmp, env });
  t.true(existsSync(out));
  t.is((await getReadyz(out, url)).status, 200, 'the issued credentials authenticate');
});
