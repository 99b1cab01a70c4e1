// The iptables syncer's I/O choices as data: a fake exec records every tool run. Covers the render
// cache (a periodic sync of unchanged Services renders and writes nothing), what a first sync reads,
// the phase timings, and the rule that picks iptables-nft or iptables-legacy.
import test from 'ava';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { chooseIptables } from '../../agents/kube-proxy/iptables/detect.ts';
import { RenderCache } from '../../agents/kube-proxy/iptables/cache.ts';
import { IptablesBackend } from '../../agents/kube-proxy/iptables/syncer.ts';
import { ChangeTracker } from '../../agents/kube-proxy/tracker.ts';

const ctx = { clusterCIDR: '10.244.0.0/16', masqueradeAll: false, nodePortIPs: [] as string[] };

function service(i: number): V1Service {
  return {
    metadata: { namespace: 'ns', name: `svc${i}` },
    spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  };
}
function slice(i: number, first = 1): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { namespace: 'ns', name: `svc${i}-x`, labels: { 'kubernetes.io/service-name': `svc${i}` } },
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [first, 2, 3].map((e) => ({ addresses: [`10.1.${i & 255}.${e}`], conditions: { ready: true } })),
  };
}

/** A backend over n Services whose exec records every run; restores take delayMs and are counted while in flight. */
function setup(n: number, command?: string, delayMs = 0) {
  const tracker = new ChangeTracker('node0');
  for (let i = 0; i < n; i++) {
    tracker.setService(`ns/svc${i}`, service(i));
    tracker.setSlice(slice(i));
  }
  tracker.takeChanges();
  const runs: Array<{ cmd: string; args: string[]; input: string; concurrent: number }> = [];
  let inflight = 0;
  let most = 0;
  const exec = async (cmd: string, args: string[], input?: string) => {
    const restore = cmd.endsWith('-restore');
    if (restore) most = Math.max(most, ++inflight);
    runs.push({ cmd, args, input: input ?? '', concurrent: inflight });
    if (restore && delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (restore) inflight--;
    return '';
  };
  return { tracker, runs, most: () => most, backend: new IptablesBackend(tracker, exec, { ...ctx, command }) };
}

test('first full sync reads each table once with iptables-save, then restores', async (t) => {
  const { backend, runs } = setup(3);
  await backend.sync(true);
  const reads = runs.filter((r) => !r.cmd.endsWith('-restore'));
  t.deepEqual(reads.map((r) => `${r.cmd} ${r.args.join(' ')}`).sort(), ['iptables-save -t filter', 'iptables-save -t nat']);
  const restores = runs.filter((r) => r.cmd === 'iptables-restore');
  t.true(restores.length >= 2);
  t.true(restores.every((r) => r.args.includes('--noflush')));
  // the jumps from the built-in chains were missing, so they go in with the shared chains
  t.regex(restores[restores.length - 1].input, /-I PREROUTING 1 .* -j KUBE-SERVICES/);
  const tm = backend.lastTimings!;
  t.true(tm.full);
  t.is(tm.restores.length, restores.length);
  t.true(tm.totalMs >= tm.planMs);
});

test('big writes: cut into inputs for iptables-nft, one input for iptables-legacy', async (t) => {
  // 200 Services x (1 SVC + 3 SEP chains) = 800 chains, over one nft input's 700
  const nft = setup(200);
  await nft.backend.sync(true);
  const legacy = setup(200, 'iptables-legacy');
  await legacy.backend.sync(true);
  const restores = (runs: Array<{ cmd: string; input: string }>) => runs.filter((r) => r.cmd.endsWith('-restore'));
  t.is(restores(nft.runs).filter((r) => r.input.includes(':KUBE-SEP-')).length, 2);
  // legacy replaces a whole table per input: everything, shared chains and jumps too, in one
  t.is(restores(legacy.runs).length, 1);
  t.true(legacy.runs.every((r) => r.cmd.startsWith('iptables-legacy')));
  // the same rules either way
  const lines = (rs: Array<{ input: string }>) => rs.flatMap((r) => r.input.split('\n').filter((l) => /^-[AIX] /.test(l))).sort();
  t.deepEqual(lines(restores(legacy.runs)), lines(restores(nft.runs)));
  // in one input, each table declares its chains before any rule uses them
  const nat = restores(legacy.runs)[0].input.split('*nat\n')[1].split('COMMIT')[0];
  t.true(nat.lastIndexOf('\n:') < nat.indexOf('\n-'));
});

test('a periodic sync of unchanged Services renders nothing again and writes nothing', async (t) => {
  const { backend, runs, tracker } = setup(4);
  await backend.sync(true);
  runs.length = 0;
  await backend.sync(false); // periodic: every Service re-derived
  t.is(runs.length, 0);
  // one endpoint moves: only that Service's chains are written
  tracker.setSlice(slice(2, 9));
  const { services } = tracker.takeChanges();
  await backend.sync(false, services);
  t.is(runs.length, 1);
  t.regex(runs[0].input, /DNAT --to-destination 10\.1\.2\.9:8080/);
  t.notRegex(runs[0].input, /10\.1\.1\./);
  t.is(backend.lastTimings!.restores.length, 1);
});

test('render cache: same objects hit, a replaced endpoint array or context flip misses', (t) => {
  const tracker = new ChangeTracker('node0');
  tracker.setService('ns/svc1', service(1));
  tracker.setSlice(slice(1));
  const cache = new RenderCache();
  const a = cache.render('ns/svc1', tracker.service('ns/svc1'), ctx);
  t.is(cache.render('ns/svc1', tracker.service('ns/svc1'), ctx), a);
  t.not(cache.render('ns/svc1', tracker.service('ns/svc1'), { ...ctx, largeCluster: true }), a);
  tracker.setSlice(slice(1, 7));
  const b = cache.render('ns/svc1', tracker.service('ns/svc1'), { ...ctx, largeCluster: true });
  t.true([...b.chains.values()].flat().some((l) => l.includes('10.1.1.7:8080')));
  t.deepEqual([cache.hits, cache.misses], [1, 3]);
  cache.retain(new Map());
  t.not(cache.render('ns/svc1', tracker.service('ns/svc1'), ctx), b);
});

const mangle = (...chains: string[]) => `*mangle\n:PREROUTING ACCEPT [0:0]\n${chains.map((c) => `:${c} - [0:0]`).join('\n')}\nCOMMIT\n`;

test('iptables backend: marker chains decide, then rule counts, then the host default', (t) => {
  t.is(chooseIptables({ mangle: mangle('KUBE-IPTABLES-HINT') }, { mangle: mangle() }), 'iptables-nft');
  t.is(chooseIptables({ mangle: mangle() }, { mangle: mangle('KUBE-KUBELET-CANARY') }), 'iptables-legacy');
  t.is(chooseIptables({ mangle: mangle() }, { mangle: mangle('KUBE-PROXY-CANARY') }), 'iptables-legacy');
  // markers in both: the host's default
  t.is(chooseIptables({ mangle: mangle('KUBE-PROXY-CANARY') }, { mangle: mangle('KUBE-IPTABLES-HINT') }), 'iptables');
  const rules = (n: number) => `*filter\n${Array.from({ length: n }, (_, k) => `-A INPUT -s 10.0.0.${k} -j ACCEPT`).join('\n')}\nCOMMIT\n`;
  t.is(chooseIptables({ mangle: '', all: rules(1) }, { mangle: '', all: rules(3) }), 'iptables-legacy');
  t.is(chooseIptables({ mangle: '', all: rules(2) }, { mangle: '', all: rules(0) }), 'iptables-nft');
  t.is(chooseIptables({ mangle: '', all: rules(0) }, { mangle: '', all: rules(0) }), 'iptables');
  t.is(chooseIptables({ mangle: '' }, { mangle: '' }), 'iptables');
});

test('full sync: the static chains land alone, Service chains two at a time, shared chains after all', async (t) => {
  const s = setup(700, undefined, 2); // 2,800 chains: 4 inputs of Service chains, the static chains in the first
  await s.backend.sync(true);
  const log = s.runs.filter((r) => r.cmd.endsWith('-restore'));
  const kinds = log.map((r) => (r.input.includes(':KUBE-MARK-MASQ') ? 'static' : r.input.includes(':KUBE-SEP-') ? 'chains' : 'shared'));
  t.is(kinds[0], 'static');
  t.is(log[0].concurrent, 1, 'nothing runs beside the first input: the others jump to its chains');
  t.is(kinds[kinds.length - 1], 'shared');
  t.is(log[log.length - 1].concurrent, 1, 'KUBE-SERVICES goes in once every Service chain is there');
  t.is(s.most(), 2);
  t.is(kinds.filter((k) => k === 'chains').length, 3);
});

test('a resync writes the same chains in fewer inputs; iptables-legacy one input at a time', async (t) => {
  const s = setup(700, undefined, 2);
  const restores = () => s.runs.filter((r) => r.cmd.endsWith('-restore')).length;
  await s.backend.sync(true);
  const first = restores();
  await s.backend.sync(true);
  t.true(restores() - first < first, `${restores() - first} inputs for the resync, ${first} for the first sync`);
  const legacy = setup(700, 'iptables-legacy', 2);
  await legacy.backend.sync(true);
  t.is(legacy.most(), 1);
});
