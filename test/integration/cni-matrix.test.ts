// Differential matrix: every case goes to our plugins (as installed for speed: exec shim + resident
// daemon) and to the reference plugins (/usr/lib/cni), each in twin throwaway namespaces. Compared:
// exit codes, error codes, result JSON (MACs, sandbox paths, veth names masked), links, addresses,
// routes, sysctls, iptables and nft rules, IPAM files; after DEL, again. Error cases must leave
// nothing of ours behind.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugins } from '../support/cni/build.ts';
import { CASES, type Case } from '../support/cni/cases.ts';
import { maskResult } from '../support/cni/snapshot.ts';
import { errorCode, FLAVOURS, Twin, type Flavour } from '../support/cni/twin.ts';
import type { Outcome } from '../support/cni/invoke.ts';
import { inNs } from '../support/cni/netns.ts';

const binDir = mkdtempSync(join(tmpdir(), 'hawser-cni-bin-'));
test.before(async () => {
  await buildPlugins(binDir, { shim: true });
});
test.after.always(() => rmSync(binDir, { recursive: true, force: true }));

type Json = Record<string, unknown>;

const BOOKKEEPING = /(^|\/)(lock|last_reserved_ip\.\d+)$/;

/** host-local's lock and round-robin files stay after a released allocation (the reference's do too) */
function withoutBookkeeping<T extends { files: Record<string, string> }>(s: T): T {
  return { ...s, files: Object.fromEntries(Object.entries(s.files).filter(([f]) => !BOOKKEEPING.test(f))) };
}

function withPrev(conf: Json | string, prev: Json | undefined, extra: Json = {}): Json {
  return { ...(conf as Json), ...extra, prevResult: prev };
}

async function runCase(t: import('ava').ExecutionContext, c: Case): Promise<void> {
  const twin = await new Twin(binDir, { daemon: true }).init();
  t.teardown(() => twin.cleanup());
  for (const [name, text] of Object.entries(c.files ?? {})) writeFileSync(join(twin.sb.dir, name), text);
  for (const f of FLAVOURS) {
    for (const [cmd, ...args] of c.hostSetup ?? []) {
      const r = await inNs(twin.worlds[f].hostNs, cmd, args);
      t.is(r.code, 0, r.stderr);
    }
  }
  const plugin = c.plugin ?? 'bridge';
  const ids = c.containers ?? ['c1'];
  const inv = (id: string, command: Case['command'] | 'DEL' = c.command ?? 'ADD') => ({
    command: command ?? 'ADD',
    containerId: id,
    ifName: c.ifName,
    args: c.args,
    env: c.env,
    ...(c.netns !== undefined ? { netns: c.netns } : {}),
  });
  const same = (o: Record<Flavour, Outcome>, what: string): void => {
    t.is(o.ours.exitCode, o.ref.exitCode, `${what}: exit ours=${o.ours.stdout} ref=${o.ref.stdout}`);
    t.is(errorCode(o.ours), errorCode(o.ref), `${what}: error code ours=${o.ours.stdout} ref=${o.ref.stdout}`);
    if (o.ref.exitCode === 0) {
      const ours = maskResult(o.ours.json);
      if (ours && c.dropFromOurs) c.dropFromOurs(ours);
      t.deepEqual(ours, maskResult(o.ref.json), `${what}: result`);
    } else {
      t.true(typeof o.ours.json?.msg === 'string', `${what}: error JSON with msg: ${o.ours.stdout}`);
    }
  };

  // the requests, until one fails; a failing one must leave nothing of ours behind
  const results: Record<string, Record<Flavour, Outcome>> = {};
  const added: string[] = [];
  let failed: Record<Flavour, Outcome> | undefined;
  for (const id of ids) {
    if (c.netns === undefined) for (const f of FLAVOURS) await twin.container(f, id);
    const before = c.error !== undefined || c.kernelDependent ? await twin.state('ours') : undefined;
    const o = await twin.both(plugin, inv(id), c.conf);
    same(o, `${c.command ?? 'ADD'} ${id}`);
    results[id] = o;
    if (o.ref.exitCode !== 0 || o.ours.exitCode !== 0) {
      failed = o;
      if (before) t.deepEqual(withoutBookkeeping(await twin.state('ours')), withoutBookkeeping(before), `ours left something behind after ${id}`);
      break;
    }
    if ((c.command ?? 'ADD') === 'ADD') added.push(id);
  }
  if (c.error !== undefined) t.is(failed && errorCode(failed.ref), c.error, `reference error: ${failed?.ref.stdout}`);
  else if (!c.kernelDependent) t.is(failed, undefined);

  for (const id of added) {
    if (c.check) {
      const o = {
        ours: await twin.run('ours', plugin, inv(id, 'CHECK'), withPrev(c.conf, results[id].ours.json)),
        ref: await twin.run('ref', plugin, inv(id, 'CHECK'), withPrev(c.conf, results[id].ref.json)),
      };
      same(o, `CHECK ${id}`);
      t.is(o.ours.exitCode, 0, o.ours.stdout);
    }
    if (c.portmap) {
      const pm = (f: Flavour) =>
        withPrev({ cniVersion: '1.0.0', name: 'hawser', type: 'portmap' }, results[id][f].json, { runtimeConfig: { portMappings: c.portmap } });
      same(
        { ours: await twin.run('ours', 'portmap', inv(id, 'ADD'), pm('ours')), ref: await twin.run('ref', 'portmap', inv(id, 'ADD'), pm('ref')) },
        `portmap ADD ${id}`,
      );
    }
  }
  // the reference may leave debris after a failure (e.g. a veth in the pod), so states are compared
  // only for runs where everything succeeded
  if (!failed) {
    const mid = { ours: await twin.state('ours'), ref: await twin.state('ref') };
    t.deepEqual(mid.ours, mid.ref, 'state after ADD');
  }
  for (const id of [...added].reverse()) {
    if (c.portmap) {
      const pm = { cniVersion: '1.0.0', name: 'hawser', type: 'portmap', runtimeConfig: { portMappings: c.portmap } };
      same(await twin.both('portmap', inv(id, 'DEL'), pm), `portmap DEL ${id}`);
    }
    same(await twin.both(plugin, inv(id, 'DEL'), c.conf), `DEL ${id}`);
  }
  const after = { ours: await twin.state('ours'), ref: await twin.state('ref') };
  if (!failed) t.deepEqual(after.ours, after.ref, 'state after DEL');
  t.deepEqual(Object.keys(withoutBookkeeping(after.ours).files), [], 'IPAM files left');
  t.false(
    after.ours.host.links.some((l) => l.name === '<veth>'),
    'veth left on the host',
  );
}

for (const c of CASES) test.serial(c.name, (t) => runCase(t, c));

test.serial('the daemon served the matrix (not the one-shot fallback)', async (t) => {
  const twin = await new Twin(binDir, { daemon: true }).init();
  t.teardown(() => twin.cleanup());
  const conf = { cniVersion: '1.0.0', name: 'hawser', type: 'loopback' };
  const o = await twin.run('ours', 'loopback', { command: 'ADD', containerId: 'c1' }, conf);
  t.is(o.exitCode, 0);
  await twin.daemon!.stop();
  t.regex(twin.daemon!.log(), /stopping after 1 requests/);
  t.true(FLAVOURS.includes('ours'));
});
