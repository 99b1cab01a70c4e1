// `hawser install` and `hawser join` against throwaway --root directories, with the join server
// side (joinHandler) on a throwaway HTTPS server on 127.0.0.1 whose certificates come from pki.ts.
// Checks the files an install and a join leave, that a second run changes nothing, that the CA pin
// refuses another cluster, and that uninstall leaves the root as it found it.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseKubeconfig } from '../../agents/api/kubeconfig.ts';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';
import { joinHandler } from '../../agents/control-plane/join/index.ts';
import { createToken } from '../../agents/control-plane/join/store.ts';
import { install, reportChanged, uninstall } from '../../agents/cli/install/install.ts';
import { join as joinCluster } from '../../agents/cli/install/join.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const built = existsSync(join(REPO, 'dist/hawser.cjs'));
const tmp = mkdtempSync(join(tmpdir(), 'hawser-install-'));
test.after.always(() => rmSync(tmp, { recursive: true, force: true }));

interface Server {
  url: string;
  dataDir: string;
  requests: string[];
  nodes: Set<string>;
  close(): Promise<void>;
}

/**
 * A throwaway cluster endpoint: joinHandler in front, 404 for the rest; `nodes` stands in for the
 * API's Node objects. slowFirstJoinMs: the first join request is held that long before it is
 * handled (a busy server signing certificates).
 */
async function startServer(name: string, o: { slowFirstJoinMs?: number } = {}): Promise<Server> {
  const dataDir = join(tmp, name);
  const ca = await loadOrCreateCA(join(dataDir, 'tls'));
  const serving = await issueCert(ca, { cn: 'kube-apiserver', sans: ['127.0.0.1', 'localhost'], usage: 'server' });
  const requests: string[] = [];
  let handle: ReturnType<typeof joinHandler> | undefined;
  let held = false;
  const srv = https.createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const serve = () => {
      if (!handle!(req, res)) {
        res.writeHead(404);
        res.end();
      }
    };
    if (o.slowFirstJoinMs && req.method === 'POST' && !held) {
      held = true;
      setTimeout(serve, o.slowFirstJoinMs);
    } else serve();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const nodes = new Set<string>();
  handle = joinHandler({ dataDir, serverURL: url, nodeExists: async (n) => nodes.has(n) });
  return {
    url,
    dataDir,
    requests,
    nodes,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

/** path -> "mode sha256" (or "-> target") of every entry under a root: the whole observable result. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const key = p.slice(root.length);
      if (e.isDirectory()) {
        out[`${key}/`] = (statSync(p).mode & 0o7777).toString(8);
        walk(p);
      } else if (e.isSymbolicLink()) out[key] = `-> ${readFileSync(p, 'utf8')}`;
      else out[key] = `${(lstatSync(p).mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

const newRoot = (name: string) => {
  const r = join(tmp, name);
  mkdirSync(r);
  return r;
};
const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });

test.serial('the token pins the CA: its hash is sha256 of the CA certificate DER, as openssl computes it', async (t) => {
  const s = await startServer('pin');
  t.teardown(() => s.close());
  const { token } = await createToken(s.dataDir, { ttlMs: 3600_000 });
  const der = execFileSync('openssl', ['x509', '-in', join(s.dataDir, 'tls/ca.crt'), '-outform', 'DER']);
  t.regex(token, /^K10[0-9a-f]{64}::[a-z0-9]{6}\.[a-z0-9]{16}$/);
  t.is(token.slice(3, 67), createHash('sha256').update(der).digest('hex'));
  const stored = readFileSync(join(s.dataDir, 'join-tokens.json'), 'utf8');
  t.false(stored.includes(token.split('.')[1]), 'the secret itself is not stored');
  t.is(statSync(join(s.dataDir, 'join-tokens.json')).mode & 0o777, 0o600);
});

test.serial('install, then join: the expected files; a second join and a second install change nothing; uninstall restores the root', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  const s = await startServer('cluster');
  t.teardown(() => s.close());
  const root = newRoot('agent');
  // a file that was there before hawser: kept aside, put back by uninstall
  mkdirSync(join(root, 'opt/cni/bin'), { recursive: true });
  writeFileSync(join(root, 'opt/cni/bin/bridge'), '#!/bin/sh\necho someone else\n', { mode: 0o755 });
  const before = snapshot(root);

  const first = await install({ role: 'agent', root, source: REPO, settings: { nodeName: 'w1', nodeIP: '10.9.8.7' } });
  t.true(reportChanged(first));
  t.true(first.changes.some((c) => c.path === '/opt/cni/bin/bridge' && c.action === 'kept-original'));
  t.true(first.notes.some((n) => /would apt-get install containerd runc iptables conntrack/.test(n)));
  t.false(existsSync(join(root, 'etc/hawser/kubelet.kubeconfig')), 'no credentials before join');

  const { token } = await createToken(s.dataDir, { ttlMs: 3600_000 });
  const joined = await joinCluster({ server: s.url, token, nodeName: 'w1', root, source: REPO });
  t.true(reportChanged(joined));
  t.deepEqual(s.requests, ['GET /cacerts', 'POST /v1-hawser/join']);

  // the expected files
  for (const f of [
    'usr/local/bin/hawser',
    'usr/local/lib/hawser/bin/node',
    'usr/local/lib/hawser/dist/hawser.cjs',
    'usr/local/lib/hawser/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'etc/systemd/system/hawser-agent.service',
    'etc/systemd/system/containerd.service.d/10-hawser.conf',
    'etc/hawser/containerd.toml',
    'etc/hawser/agent.yaml',
    'etc/hawser/ca.crt',
    'etc/hawser/kubelet.kubeconfig',
    'opt/cni/bin/bridge',
    'opt/cni/bin/host-local',
    'opt/cni/bin/loopback',
    'etc/sysctl.d/90-hawser.conf',
    'etc/modules-load.d/hawser.conf',
    'var/lib/hawser/install-manifest.json',
  ]) {
    t.true(existsSync(join(root, f)), `${f} exists`);
  }
  t.false(existsSync(join(root, 'etc/systemd/system/hawser-control-plane.service')), 'an agent has no control plane unit');
  t.deepEqual(parse(readFileSync(join(root, 'etc/hawser/agent.yaml'), 'utf8')), {
    'node-name': 'w1',
    kubeconfig: '/etc/hawser/kubelet.kubeconfig',
    'cni-conf-dir': '/etc/cni/net.d',
    'cni-bin-dir': '/opt/cni/bin',
    'cluster-cidr': '10.244.0.0/16',
    'container-runtime-endpoint': '/run/containerd/containerd.sock',
    'root-dir': '/var/lib/hawser/kubelet',
    'node-ip': '10.9.8.7',
    'podnet-kubeconfig': '/etc/hawser/podnet.kubeconfig',
    'kube-proxy-kubeconfig': '/etc/hawser/kube-proxy.kubeconfig',
    'ingress-kubeconfig': '/etc/hawser/ingress.kubeconfig',
  });
  t.false(existsSync(join(root, 'etc/hawser/kubelet.yaml')), 'no per-component configs unless --separate-units');
  // each agent component has its own credentials, private to root
  for (const [file, cn] of [
    ['kubelet', 'system:node:w1'],
    ['kube-proxy', 'system:kube-proxy'],
    ['podnet', 'system:podnet:w1'],
    ['ingress', 'system:hawser-ingress'],
  ]) {
    const path = join(root, `etc/hawser/${file}.kubeconfig`);
    t.is(statSync(path).mode & 0o777, 0o600, path);
    t.true(new X509Certificate(parseKubeconfig(readFileSync(path, 'utf8')).cert!).subject.split('\n').includes(`CN=${cn}`), path);
  }
  t.is(statSync(join(root, 'usr/local/bin/hawser')).mode & 0o777, 0o755);

  // the credentials: system:node:w1 in system:nodes, signed by the cluster CA (openssl as the oracle)
  const auth = parseKubeconfig(readFileSync(join(root, 'etc/hawser/kubelet.kubeconfig'), 'utf8'));
  t.is(auth.server, s.url);
  const certFile = join(tmp, 'w1.crt');
  writeFileSync(certFile, auth.cert!);
  t.regex(openssl(['verify', '-CAfile', join(s.dataDir, 'tls/ca.crt'), certFile]), /: OK/);
  const subject = new X509Certificate(auth.cert!).subject.split('\n');
  t.true(subject.includes('CN=system:node:w1') && subject.includes('O=system:nodes'), subject.join(','));
  t.is(readFileSync(join(root, 'etc/hawser/ca.crt'), 'utf8'), readFileSync(join(s.dataDir, 'tls/ca.crt'), 'utf8'));

  // the installed suite runs from the root, SQLite binding included
  const node = join(root, 'usr/local/lib/hawser/bin/node');
  t.is(execFileSync(node, [join(root, 'usr/local/lib/hawser/dist/hawser.cjs'), '--version'], { encoding: 'utf8' }).trim(), '0.1.0');
  t.is(
    execFileSync(
      node,
      [
        '-e',
        `const D = require(${JSON.stringify(join(root, 'usr/local/lib/hawser/node_modules/better-sqlite3'))}); process.stdout.write(String(new D(':memory:').prepare('select 41 + 1 as x').get().x))`,
      ],
      { encoding: 'utf8' },
    ),
    '42',
  );
  for (const f of ['usr/local/bin/hawser', 'opt/cni/bin/bridge']) execFileSync('sh', ['-n', join(root, f)]);

  // second runs: nothing changes, nothing is fetched
  const after = snapshot(root);
  const again = await joinCluster({ server: s.url, token, nodeName: 'w1', root, source: REPO });
  t.false(reportChanged(again), JSON.stringify(again.changes));
  t.is(s.requests.length, 2, 'credentials still good: no request to the server');
  const reinstall = await install({ role: 'agent', root, source: REPO });
  t.false(reportChanged(reinstall), JSON.stringify(reinstall.changes));
  t.deepEqual(snapshot(root), after, 'byte for byte the same tree');
  t.is(parse(readFileSync(join(root, 'etc/hawser/agent.yaml'), 'utf8'))['node-name'], 'w1', 'the joined name survives a reinstall');

  // a rerun trusts an installed file's recorded size, times and inode instead of hashing it again;
  // a file edited in place, same size, its mtime set back, still differs (its ctime moved) and is put right
  const loader = join(root, 'usr/local/lib/hawser/dist/hawser.cjs');
  const good = readFileSync(loader);
  const times = join(tmp, 'loader-times');
  writeFileSync(times, '');
  execFileSync('touch', ['-r', loader, times]); // its mtime to the nanosecond (utimes from a Date keeps milliseconds)
  writeFileSync(loader, Buffer.from(good.toString('latin1').replace('use strict', 'use sloppy'), 'latin1'));
  execFileSync('touch', ['-r', times, loader]);
  t.is(statSync(loader, { bigint: true }).mtimeNs, statSync(times, { bigint: true }).mtimeNs);
  t.is(statSync(loader).size, good.length);
  const repaired = await install({ role: 'agent', root, source: REPO });
  t.deepEqual(repaired.changes, [{ path: '/usr/local/lib/hawser/dist/hawser.cjs', action: 'updated' }]);
  t.true(readFileSync(loader).equals(good));

  // uninstall: everything hawser added is gone, the original file is back
  const removed = await uninstall({ root });
  t.true(removed.changes.some((c) => c.path === '/opt/cni/bin/bridge' && c.action === 'restored'));
  t.deepEqual(snapshot(root), before);
});

test.serial('join refuses a server whose CA is not the pinned one, and writes nothing', async (t) => {
  const real = await startServer('real');
  const impostor = await startServer('impostor');
  t.teardown(async () => {
    await real.close();
    await impostor.close();
  });
  const { token } = await createToken(real.dataDir, { ttlMs: 3600_000 });
  const root = newRoot('refused');
  const err = await t.throwsAsync(joinCluster({ server: impostor.url, token, nodeName: 'w2', root, source: REPO }));
  t.regex(err!.message, /refusing to join: the CA of .* is not the one pinned in the token/);
  t.deepEqual(impostor.requests, ['GET /cacerts'], 'no credential was sent to the impostor');
  t.deepEqual(readdirSync(root), []);
});

test.serial(
  'the join endpoint: unknown, expired and missing tokens get 401; bad names 400; a name is kept by its node password until its Node is deleted',
  async (t) => {
    if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
    const s = await startServer('auth');
    t.teardown(() => s.close());
    const ca = readFileSync(join(s.dataDir, 'tls/ca.crt'), 'utf8');
    const post = (auth: string | undefined, body: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const data = JSON.stringify(body);
        const req = https.request(
          `${s.url}/v1-hawser/join`,
          { method: 'POST', ca, headers: { ...(auth ? { Authorization: auth } : {}), 'Content-Type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(data);
      });
    // (creating a token drops expired ones, so the expired one comes last)
    const good = await createToken(s.dataDir, { ttlMs: 3600_000 });
    const expired = await createToken(s.dataDir, { ttlMs: 1000, now: Date.now() - 10_000 });
    const cred = (tok: string) => `Bearer ${tok.split('::')[1]}`;

    const none = await post(undefined, { nodeName: 'w3' });
    t.is(none.status, 401);
    t.is(JSON.parse(none.body).kind, 'Status');
    t.is((await post('Bearer abcdef.0123456789abcdef', { nodeName: 'w3' })).status, 401);
    const old = await post(cred(expired.token), { nodeName: 'w3' });
    t.is(old.status, 401);
    t.regex(JSON.parse(old.body).message, /expired/);
    t.is((await post(cred(good.token), { nodeName: 'Not_A_Name', nodePassword: 'p'.repeat(20) })).status, 400);
    const noPassword = await post(cred(good.token), { nodeName: 'w3' });
    t.is(noPassword.status, 400);
    t.regex(JSON.parse(noPassword.body).message, /nodePassword/);

    // a node joins, loses its credentials (reinstalled), and joins again under the same name
    const root = newRoot('rejoin');
    await joinCluster({ server: s.url, token: good.token, nodeName: 'w3', root, source: REPO });
    s.nodes.add('w3'); // its kubelet registered
    const password = readFileSync(join(root, 'etc/hawser/node-password'), 'utf8').trim();
    t.regex(password, /^[0-9a-f]{48}$/);
    t.is(statSync(join(root, 'etc/hawser/node-password')).mode & 0o777, 0o600);
    const firstCert = readFileSync(join(root, 'etc/hawser/kubelet.kubeconfig'), 'utf8');
    rmSync(join(root, 'etc/hawser/kubelet.kubeconfig'));
    const rejoin = await joinCluster({ server: s.url, token: good.token, nodeName: 'w3', root, source: REPO });
    t.true(rejoin.changes.some((c) => c.path === '/etc/hawser/kubelet.kubeconfig'));
    t.not(readFileSync(join(root, 'etc/hawser/kubelet.kubeconfig'), 'utf8'), firstCert);
    const joined = JSON.parse(readFileSync(join(s.dataDir, 'joined-nodes.json'), 'utf8'));
    t.is(joined.w3.joins, 2);
    t.false(JSON.stringify(joined).includes(password), 'the server keeps a hash, not the password');

    // another machine with a valid token cannot take the name while the Node is there
    const other = newRoot('impostor-node');
    const taken = await t.throwsAsync(joinCluster({ server: s.url, token: good.token, nodeName: 'w3', root: other, source: REPO }));
    t.regex(taken!.message, /\(403\).*node w3 is already in the cluster.*kubectl delete node w3/);
    t.false(existsSync(join(other, 'etc/hawser/kubelet.kubeconfig')), 'nothing installed on a refused join');
    // once the Node is deleted, the name is free again (a reinstalled machine that lost its password)
    s.nodes.delete('w3');
    await joinCluster({ server: s.url, token: good.token, nodeName: 'w3', root: other, source: REPO });
    t.is(JSON.parse(readFileSync(join(s.dataDir, 'joined-nodes.json'), 'utf8')).w3.joins, 3);
    await uninstall({ root });
    await uninstall({ root: other });
  },
);

test.serial('join retries a join request the server did not answer in time, within --wait', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  const s = await startServer('slow', { slowFirstJoinMs: 4000 });
  t.teardown(() => s.close());
  const root = newRoot('slow-join');
  const { token } = await createToken(s.dataDir, { ttlMs: 3600_000 });
  await joinCluster({ server: s.url, token, nodeName: 'w5', root, source: REPO, waitMs: 30_000, requestTimeoutMs: 2000 });
  // the held one and at least one retry (more when signing takes this busy host over 2 s too)
  t.is(s.requests[0], 'GET /cacerts');
  t.true(s.requests.filter((r) => r === 'POST /v1-hawser/join').length >= 2, s.requests.join(', '));
  t.true(existsSync(join(root, 'etc/hawser/kubelet.kubeconfig')));
  // without --wait a request that runs out of time fails the join and says so
  const once = await startServer('slow-once', { slowFirstJoinMs: 4000 });
  t.teardown(() => once.close());
  const other = newRoot('slow-join-once');
  const err = await t.throwsAsync(
    joinCluster({
      server: once.url,
      token: (await createToken(once.dataDir, { ttlMs: 3600_000 })).token,
      nodeName: 'w6',
      root: other,
      source: REPO,
      requestTimeoutMs: 2000,
    }),
  );
  t.regex(err!.message, /^joining through https:\/\/127\.0\.0\.1:\d+: no answer from .*\/v1-hawser\/join within 2 s$/);
  await uninstall({ root });
});

test.serial('uninstall --purge removes the pod logs and CNI dirs the agents made, only where the install found none', async (t) => {
  if (!built) return t.fail('dist/hawser.cjs is missing: run `make build` first');
  const walk = (d: string, rel = ''): string[] =>
    readdirSync(join(d, rel), { withFileTypes: true }).flatMap((e) => [join(rel, e.name), ...(e.isDirectory() ? walk(d, join(rel, e.name)) : [])]);
  const bare = newRoot('purge-bare');
  const kept = newRoot('purge-kept');
  // every host has /var/log and /var/lib
  for (const r of [bare, kept]) for (const d of ['var/log', 'var/lib']) mkdirSync(join(r, d), { recursive: true });
  mkdirSync(join(kept, 'var/log/pods/other_pod'), { recursive: true });
  writeFileSync(join(kept, 'var/log/pods/other_pod/0.log'), "not hawser's\n");
  const before = { bare: walk(bare).sort(), kept: walk(kept).sort() };
  for (const root of [bare, kept]) {
    await install({ role: 'agent', root, source: REPO, settings: { nodeName: 'n1' } });
    // what the kubelet and containerd's CNI leave while the node runs
    mkdirSync(join(root, 'var/log/pods/default_web_uid/web'), { recursive: true });
    writeFileSync(join(root, 'var/log/pods/default_web_uid/web/0.log'), 'log\n');
    mkdirSync(join(root, 'var/lib/cni/results'), { recursive: true });
    mkdirSync(join(root, 'var/lib/cni/networks/hawser'), { recursive: true });
    await uninstall({ root, purge: true });
  }
  t.deepEqual(walk(bare).sort(), before.bare, 'a host without them before: gone');
  t.true(existsSync(join(kept, 'var/log/pods/other_pod/0.log')), 'pod logs that were there before the install stay');
});
