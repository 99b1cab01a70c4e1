// Errors from the kubelet's server as metav1 Status objects (server/status.ts).
import test from 'ava';
import { HttpError, rawStatusResponse, toStatus } from '../../agents/kubelet/server/status.ts';

test('errors are metav1 Status objects', (t) => {
  t.deepEqual(toStatus(new HttpError(404, 'pods "x" not found', { name: 'x', kind: 'pods' })), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "x" not found',
    reason: 'NotFound',
    code: 404,
    details: { name: 'x', kind: 'pods' },
  });
  const s = toStatus(new Error('boom'));
  t.is(s.code, 500);
  t.is(s.reason, 'InternalError');
  const raw = rawStatusResponse(new HttpError(401, 'Unauthorized'));
  t.regex(raw, /^HTTP\/1\.1 401 Unauthorized\r\n/);
  const body = raw.split('\r\n\r\n')[1]!;
  t.is(raw.match(/Content-Length: (\d+)/)![1], String(Buffer.byteLength(body)));
  t.is(JSON.parse(body).reason, 'Unauthorized');
});
