// The pure pieces of WebSocket streaming at the API server: SPDY framing (header blocks a zlib
// reader with the SPDY dictionary decodes frame after frame), which upgrade takes which path,
// the remote-command streams asked of the kubelet, and the kubelet query of a port-forward.
import test from 'ava';
import zlib from 'node:zlib';
import { FrameReader, HeaderWriter, dataFrames, headerBlock, synStream } from '../../agents/control-plane/apiserver/spdy/frames.ts';
import { upgradeRoute } from '../../agents/control-plane/apiserver/upgrade-route.ts';
import { streamsFor } from '../../agents/control-plane/apiserver/stream-translator.ts';
import { kubeletTarget } from '../../agents/control-plane/apiserver/kubelet-target.ts';
import { logProtocol } from '../../agents/control-plane/apiserver/log-websocket.ts';

test('SPDY header blocks form one zlib stream, each block readable as soon as its frame arrived', (t) => {
  const w = new HeaderWriter();
  const blocks = [headerBlock({ streamType: 'error' }), headerBlock({ streamtype: 'stdout', port: '8080' })];
  const sent: Buffer[] = [];
  blocks.forEach((b, i) => {
    sent.push(w.compress(b));
    // what a reader has after frame i: every block so far, with no byte of a later frame needed
    const read = zlib.inflateSync(Buffer.concat(sent), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    t.deepEqual(read, Buffer.concat(blocks.slice(0, i + 1)));
  });
  // a block is [count][len name][name][len value][value] with lowercase names
  t.is(blocks[0]!.readUInt32BE(0), 1);
  t.is(blocks[0]!.subarray(8, 18).toString(), 'streamtype');
  // each block ends as zlib's sync flush ends one: an empty stored block
  t.deepEqual(sent[1]!.subarray(-5), Buffer.from([0, 0, 0, 0xff, 0xff]));
});

test('SPDY frames: SYN_STREAM and DATA (FIN on the last piece) split back out of a byte stream', (t) => {
  const w = new HeaderWriter();
  const bytes = Buffer.concat([
    synStream(1, w.compress(headerBlock({ a: 'b' }))),
    ...dataFrames(1, Buffer.from('hello')),
    ...dataFrames(1, Buffer.alloc(0), true),
  ]);
  const r = new FrameReader();
  const frames = [...r.push(bytes.subarray(0, 7)), ...r.push(bytes.subarray(7))];
  t.is(frames.length, 3);
  t.like(frames[0], { control: true, type: 1, flags: 0 });
  t.like(frames[1], { control: false, streamId: 1, flags: 0 });
  t.is((frames[1] as { data: Buffer }).data.toString(), 'hello');
  t.like(frames[2], { control: false, streamId: 1, flags: 1 });
});

test('upgrade paths: v5 exec/attach translated, the SPDY tunnel for port-forward, everything else proxied', (t) => {
  const ws = (protocols: string) => ({ upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-protocol': protocols });
  t.is(upgradeRoute('exec', ws('v5.channel.k8s.io, v4.channel.k8s.io')), 'translate');
  t.is(upgradeRoute('attach', ws('v5.channel.k8s.io')), 'translate');
  t.is(upgradeRoute('exec', ws('v4.channel.k8s.io')), 'proxy');
  t.is(upgradeRoute('exec', ws('bogus')), 'proxy');
  t.is(upgradeRoute('portforward', ws('SPDY/3.1+portforward.k8s.io')), 'tunnel');
  t.is(upgradeRoute('portforward', ws('v5.channel.k8s.io,v4.channel.k8s.io')), 'proxy');
  t.is(upgradeRoute('exec', { upgrade: 'SPDY/3.1', connection: 'Upgrade' }), 'proxy');
});

test('remote-command v4 streams in client-go order; a TTY has resize and no stderr', (t) => {
  t.deepEqual(
    streamsFor({ stdin: true, stdout: true, stderr: true, tty: false }).map((s) => s.type),
    ['error', 'stdin', 'stdout', 'stderr'],
  );
  t.deepEqual(
    streamsFor({ stdin: true, stdout: true, stderr: true, tty: true }).map((s) => s.type),
    ['error', 'stdin', 'stdout', 'resize'],
  );
});

test('a port-forward\'s ports reach the kubelet as upstream sends them: one "port" each', (t) => {
  const pod = { metadata: { namespace: 'ns', name: 'web' }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } };
  const node = { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } };
  const target = kubeletTarget(pod, node, 'portforward', new URLSearchParams('ports=8080,9090&ports=7070'));
  t.is(target.path, '/portForward/ns/web?port=8080&port=9090&port=7070');
});

test('a log WebSocket: no subprotocol or binary.k8s.io is binary, base64.binary.k8s.io text, another refused', (t) => {
  const ws = (protocols?: string) => ({ upgrade: 'websocket', connection: 'Upgrade', ...(protocols ? { 'sec-websocket-protocol': protocols } : {}) });
  t.is(logProtocol(ws()), '');
  t.is(logProtocol(ws('binary.k8s.io')), 'binary.k8s.io');
  t.is(logProtocol(ws('bogus, base64.binary.k8s.io')), 'base64.binary.k8s.io');
  t.is(logProtocol(ws('v4.channel.k8s.io')), undefined);
});
