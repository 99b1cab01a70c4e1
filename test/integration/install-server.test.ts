// The installed server runs from what `hawser install --role server` put on the host, and nothing
// else: its bundle, the runtime node_modules the install copies and the node binary it ships. The
// install into a throwaway root sits under /tmp, so no node_modules of this repository is on the
// installed bundle's module path, as on a VM. A static import of etcd3 once made every installed
// control plane (and `hawser kubeconfig`) die with "Cannot find module 'etcd3'" before serving.
// The release tarball (`make dist`) installs the same way and also carries etcd3 and kubectl: an
// installed server on an etcd datastore serves, and the shipped kubectl works with the admin
// kubeconfig the server writes to its documented path.
import test, { type ExecutionContext } from 'ava';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseKubeconfig } from '../../agents/api/kubeconfig.ts';
import { install } from '../../agents/cli/install/install.ts';
import { etcdAvailable, startEtcd } from '../support/etcd-server.ts';
import { buildRelease } from '../../release/build.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const built = existsSync(join(REPO, 'dist/hawser.cjs'));
const tmp = mkdtempSync(join(tmpdir(), 'hawser-install-server-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
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

// HOME in the throwaway dir: kubectl keeps its discovery cache under $HOME/.kube
const installedEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HAWSER_LOG_LEVEL: 'warn', HOME: tmp };

interface Installed {
  node: string;
  bundle: string;
  url: string;
  dataDir: string;
  stderr: () => string;
  proc: ChildProcess;
}

/** Starts the control plane installed under root with its own node and bundle; resolves once /readyz is 200. */
async function startInstalled(t: ExecutionContext, root: string, name: string, extra: string[] = []): Promise<Installed> {
  const node = join(root, 'usr/local/lib/hawser/bin/node');
  const bundle = join(root, 'usr/local/lib/hawser/dist/hawser.cjs');
  t.true(existsSync(node) && existsSync(bundle), 'install wrote the node binary and the bundle');
  const dataDir = join(tmp, `${name}-data`);
  const port = await freePort();
  const args = [bundle, 'control-plane', '--data-dir', dataDir, '--bind-address', '127.0.0.1', '--port', String(port), '--cluster-dns', '', ...extra];
  const proc = spawn(node, args, { cwd: tmp, env: installedEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  t.teardown(() => {
    proc.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
  const url = `https://127.0.0.1:${port}`;
  const admin = join(dataDir, 'admin.kubeconfig');
  const deadline = Date.now() + 30_000;
  // /readyz answers 500 until the post-start hooks (RBAC bootstrap roles ...) are done, as upstream's
  let ready: { status: number; body: string } | undefined;
  while (Date.now() < deadline && ready?.status !== 200) {
    const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 300))]);
    if (early !== 'running') throw new Error(`the installed control plane exited (${String(early)}):\n${stderr}`);
    if (existsSync(admin)) ready = (await getReadyz(admin, url).catch(() => undefined)) ?? ready;
  }
  t.is(ready?.status, 200, `readyz from the installed server; its stderr:\n${stderr}`);
  t.is(ready?.body, 'ok');
  return { node, bundle, url, dataDir, stderr: () => stderr, proc };
}

test.serial('the installed control plane starts from the installed files alone and serves; the installed `hawser kubeconfig` works', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  const root = join(tmp, 'root');
  mkdirSync(root);
  await install({ role: 'server', root, source: REPO });
  const cp = await startInstalled(t, root, 'sqlite');

  // `hawser kubeconfig` is what an admin runs on the server to hand out credentials
  const out = join(tmp, 'viewer.kubeconfig');
  await promisify(execFile)(cp.node, [cp.bundle, 'kubeconfig', '--user', 'jane', '--data-dir', cp.dataDir, '--server', cp.url, '--out', out], {
    cwd: tmp,
    env: installedEnv,
  });
  t.true(existsSync(out));
  t.is((await getReadyz(out, cp.url)).status, 200, 'the issued credentials authenticate');
});

test.serial('installed from the release tarball: the server runs on etcd, writes its admin kubeconfig, and the shipped kubectl uses it', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  if (!etcdAvailable()) return t.fail('etcd is not installed: apt-get install etcd-server');
  const release = buildRelease({ sourceDir: REPO, outDir: join(tmp, 'release'), stageDir: join(tmp, 'stage') });
  t.regex(release.file, /hawser-\d+\.\d+\.\d+-linux-amd64\.tar\.gz$/);
  const root = join(tmp, 'release-root');
  mkdirSync(root);
  const t0 = Date.now();
  await install({ role: 'server', root, source: release.file });
  t.log(`release ${(release.bytes / 1048576).toFixed(1)} MiB; install --from it into a --root took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const kubectl = join(root, 'usr/local/lib/hawser/bin/kubectl');
  t.true(existsSync(kubectl), 'kubectl installed beside hawser');
  // the release lists its files' sha256 (sha256sum's format); the install records those hashes, and
  // they are the installed files' own (it copied node and kubectl without hashing them again)
  const sums = new Map(
    (await promisify(execFile)('tar', ['-xzOf', release.file, '--wildcards', '*/SHA256SUMS'])).stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(66), l.slice(0, 64)] as const),
  );
  const manifest = JSON.parse(readFileSync(join(root, 'var/lib/hawser/install-manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  for (const [inRelease, installed] of [
    ['bin/node', 'usr/local/lib/hawser/bin/node'],
    ['bin/kubectl', 'usr/local/lib/hawser/bin/kubectl'],
    ['dist/hawser.cjs', 'usr/local/lib/hawser/dist/hawser.cjs'],
  ]) {
    const own = createHash('sha256')
      .update(readFileSync(join(root, installed)))
      .digest('hex');
    t.is(sums.get(inRelease), own, `${inRelease} in SHA256SUMS`);
    t.is(manifest.files.find((f) => f.path === `/${installed}`)?.sha256, own, `${installed} in the manifest`);
  }
  t.true(existsSync(join(root, 'usr/local/lib/hawser/node_modules/etcd3/proto/rpc.proto')), 'etcd3 ships with its .proto files');

  const etcd = await startEtcd({});
  t.teardown(() => etcd.stop());
  const adminOut = join(tmp, 'etc-hawser/admin.kubeconfig');
  const cp = await startInstalled(t, root, 'etcd', ['--datastore-endpoint', etcd.endpoint, '--write-kubeconfig', adminOut]);
  // written once the server is up, just after /readyz first answers
  for (let i = 0; i < 50 && !existsSync(adminOut); i++) await new Promise((r) => setTimeout(r, 200));
  t.true(existsSync(adminOut), `--write-kubeconfig wrote ${adminOut}`);
  const r = await promisify(execFile)(kubectl, ['--kubeconfig', adminOut, 'get', 'namespace', 'default', '-o', 'name'], { env: installedEnv });
  t.is(r.stdout.trim(), 'namespace/default');
});
