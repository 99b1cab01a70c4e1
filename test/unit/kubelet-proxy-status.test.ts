// A refusal written on a raw socket (exec, attach, port-forward upgrades) carries HTTP's reason
// phrase on its status line, and the Kubernetes Status (reason included) in its body: a Status reason
// such as "NotFound" or an empty one is not a phrase clients expect to parse.
import test from 'ava';
import { PassThrough } from 'node:stream';
import { writeStatus } from '../../agents/control-plane/apiserver/kubelet-proxy.ts';
import { ApiError } from '../../agents/control-plane/apiserver/errors.ts';

const written = async (err: ApiError) => {
  const s = new PassThrough();
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => s.on('end', r));
  writeStatus(s, err);
  await ended;
  return Buffer.concat(chunks).toString('utf8');
};

test('the status line has HTTP reason phrases; the Status reason stays in the body', async (t) => {
  const out = await written(new ApiError(404, 'NotFound', 'pods "x" not found'));
  t.is(out.split('\r\n')[0], 'HTTP/1.1 404 Not Found');
  const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
  t.like(body, { kind: 'Status', reason: 'NotFound', code: 404, message: 'pods "x" not found' });
});

test('an empty Status reason still makes a valid status line', async (t) => {
  const out = await written(new ApiError(502, '', 'the kubelet is unreachable'));
  t.is(out.split('\r\n')[0], 'HTTP/1.1 502 Bad Gateway');
});
