// Wire-level handling of one message (no sockets): header flags, EDNS, UDP truncation, malformed
// input, forwarding and its failure, ExternalName chasing.
import test from 'ava';
import dnsPacket, { type Packet } from 'dns-packet';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { handleMessage } from '../../agents/control-plane/dns/message.ts';
import { buildIndex } from '../../agents/control-plane/dns/records.ts';

const many = Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.${i >> 8}.${i & 255}`], conditions: { ready: true } }));
const services: V1Service[] = [
  { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80 }] } },
  { metadata: { name: 'big', namespace: 'default' }, spec: { clusterIP: 'None' } },
  { metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } },
];
const slices: V1EndpointSlice[] = [
  { metadata: { name: 'big-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } }, addressType: 'IPv4', endpoints: many },
];
const index = buildIndex({ zone: 'cluster.local', serial: 7, services, slices, pods: [] });

const RD = dnsPacket.RECURSION_DESIRED;
const query = (name: string, type: string, o: Partial<Packet> = {}, edns?: number) =>
  dnsPacket.encode({
    id: 4242,
    type: 'query',
    flags: RD,
    questions: [{ name, type: type as never }],
    additionals: edns ? [{ type: 'OPT', name: '.', udpPayloadSize: edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    ...o,
  });

async function run(buf: Buffer, o: { tcp?: boolean; forward?: (q: Buffer, tcp: boolean) => Promise<Buffer | undefined> } = {}) {
  const res = await handleMessage(buf, { index, tcp: o.tcp ?? false, forward: o.forward ?? (async () => undefined) });
  if (!res) throw new Error('no response');
  return { raw: res, p: dnsPacket.decode(res) as ReturnType<typeof dnsPacket.decode> & { rcode: string } };
}

test('an in-zone answer echoes id, question and RD, and sets QR, AA, RA', async (t) => {
  const { p } = await run(query('web.default.svc.cluster.local', 'A'));
  t.is(p.id, 4242);
  t.true(p.flag_qr && p.flag_aa && p.flag_ra && p.flag_rd);
  t.is(p.rcode, 'NOERROR');
  t.deepEqual(p.questions, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }]);
  t.deepEqual(
    p.answers!.map((a) => (a as { data: unknown }).data),
    ['10.96.5.5'],
  );
});

test('NXDOMAIN goes out with the SOA in the authority section', async (t) => {
  const { p } = await run(query('nope.default.svc.cluster.local', 'A'));
  t.is(p.rcode, 'NXDOMAIN');
  t.is(p.authorities![0].type, 'SOA');
  t.is(p.authorities![0].name, 'cluster.local');
});

test('a UDP answer too large for 512 bytes is truncated (TC) and whole over TCP; EDNS raises the limit', async (t) => {
  const udp = await run(query('big.default.svc.cluster.local', 'A'));
  t.true(udp.p.flag_tc);
  t.true(udp.raw.length <= 512);
  const kept = udp.p.answers!.length;
  t.true(kept > 0 && kept < 60, `as many answers as fit: ${kept}`);
  const tcp = await run(query('big.default.svc.cluster.local', 'A'), { tcp: true });
  t.false(tcp.p.flag_tc);
  t.is(tcp.p.answers!.length, 60);
  const edns = await run(query('big.default.svc.cluster.local', 'A', {}, 4096));
  t.false(edns.p.flag_tc);
  t.is(edns.p.answers!.length, 60);
  t.is(edns.p.additionals!.find((a) => a.type === 'OPT')?.type, 'OPT', 'EDNS answered with EDNS');
  const mid = await run(query('big.default.svc.cluster.local', 'A', {}, 1232));
  t.true(mid.raw.length <= 1232 && mid.p.answers!.length > kept, 'a 1232-byte EDNS buffer holds more than 512');
  // glue is dropped before any answer is cut, and without TC
  const srv = await run(query('_http._tcp.web.default.svc.cluster.local', 'SRV'));
  t.false(srv.p.flag_tc);
});

test('garbage is FORMERR, a non-QUERY opcode NOTIMP, two questions FORMERR, responses are ignored', async (t) => {
  const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
  const g = await run(garbage);
  t.is(g.p.id, 0x1234);
  t.is(g.p.rcode, 'FORMERR');
  const notify = query('web.default.svc.cluster.local', 'SOA', { flags: 4 << 11 });
  t.is((await run(notify)).p.rcode, 'NOTIMP');
  const two = dnsPacket.encode({
    id: 1,
    type: 'query',
    questions: [
      { name: 'a.cluster.local', type: 'A' },
      { name: 'b.cluster.local', type: 'A' },
    ],
  });
  t.is((await run(two)).p.rcode, 'FORMERR');
  const resp = dnsPacket.encode({ id: 1, type: 'response', questions: [{ name: 'a.cluster.local', type: 'A' }] });
  t.is(await handleMessage(resp, { index, tcp: false, forward: async () => undefined }), undefined);
  t.is(await handleMessage(Buffer.from([1, 2, 3]), { index, tcp: false, forward: async () => undefined }), undefined);
});

test('outside the zone: the raw query goes upstream and its answer comes back; no answer is SERVFAIL', async (t) => {
  const q = query('example.com', 'A');
  let seen: Buffer | undefined;
  const upstreamAnswer = dnsPacket.encode({
    id: 4242,
    type: 'response',
    flags: RD | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ name: 'example.com', type: 'A' }],
    answers: [{ name: 'example.com', type: 'A', ttl: 60, data: '192.0.2.1' }],
  });
  const ok = await run(q, {
    forward: async (b, tcp) => {
      seen = b;
      t.false(tcp);
      return upstreamAnswer;
    },
  });
  t.deepEqual(seen, q);
  t.deepEqual(ok.raw, upstreamAnswer);
  const failed = await run(q);
  t.is(failed.p.rcode, 'SERVFAIL');
  t.is(failed.p.id, 4242);
  t.deepEqual(failed.p.questions, [{ name: 'example.com', type: 'A', class: 'IN' }]);
});

test('an ExternalName answer carries the CNAME plus what upstream says about its target', async (t) => {
  const forward = async (b: Buffer) => {
    const q = dnsPacket.decode(b);
    t.is(q.questions![0].name, 'www.example.com');
    return dnsPacket.encode({
      id: q.id,
      type: 'response',
      questions: q.questions,
      answers: [{ name: 'www.example.com', type: 'A', ttl: 30, data: '192.0.2.7' }],
    });
  };
  const { p } = await run(query('ext.default.svc.cluster.local', 'A'), { forward });
  t.deepEqual(
    p.answers!.map((a) => [a.name, a.type, (a as { data: unknown }).data]),
    [
      ['ext.default.svc.cluster.local', 'CNAME', 'www.example.com'],
      ['www.example.com', 'A', '192.0.2.7'],
    ],
  );
  const alone = await run(query('ext.default.svc.cluster.local', 'A'));
  t.is(alone.p.rcode, 'NOERROR');
  t.is(alone.p.answers!.length, 1, 'the CNAME alone when upstream is silent');
});
