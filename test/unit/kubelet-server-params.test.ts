import test from 'ava';
import { parseLogQuery, parsePorts, parseRoute, parseStreamQuery } from '../../agents/kubelet/server/params.ts';
import { HttpError } from '../../agents/kubelet/server/status.ts';

const q = (s: string) => new URLSearchParams(s);
const NOW = new Date('2026-01-02T03:04:05Z');

test('routes at upstream kubelet paths', (t) => {
  t.deepEqual(parseRoute('/healthz'), { kind: 'healthz' });
  t.deepEqual(parseRoute('/healthz/ping'), { kind: 'healthz' });
  t.deepEqual(parseRoute('/pods'), { kind: 'pods' });
  t.deepEqual(parseRoute('/pods/'), { kind: 'pods' });
  t.deepEqual(parseRoute('/metrics'), { kind: 'metrics' });
  t.deepEqual(parseRoute('/containerLogs/ns/web/app'), { kind: 'containerLogs', namespace: 'ns', pod: 'web', container: 'app' });
  t.deepEqual(parseRoute('/exec/ns/web/app'), { kind: 'exec', namespace: 'ns', pod: 'web', container: 'app' });
  t.deepEqual(parseRoute('/exec/ns/web/u-1/app'), { kind: 'exec', namespace: 'ns', pod: 'web', uid: 'u-1', container: 'app' });
  t.deepEqual(parseRoute('/attach/ns/web/app'), { kind: 'attach', namespace: 'ns', pod: 'web', container: 'app' });
  t.deepEqual(parseRoute('/portForward/ns/web'), { kind: 'portForward', namespace: 'ns', pod: 'web' });
  t.deepEqual(parseRoute('/portforward/ns/web/u-1'), { kind: 'portForward', namespace: 'ns', pod: 'web', uid: 'u-1' });
  t.deepEqual(parseRoute('/containerLogs/ns/we%62/app'), { kind: 'containerLogs', namespace: 'ns', pod: 'web', container: 'app' });
  for (const bad of [
    '/',
    '/nope',
    '/containerLogs/ns/web',
    '/containerLogs/ns//app',
    '/exec/ns/web',
    '/exec/a/b/c/d/e',
    '/portForward/ns',
    '/pods/x',
    '/containerLogs/%zz/a/b',
  ]) {
    t.is(parseRoute(bad), undefined, bad);
  }
});

test('log options: defaults, booleans as the parameter codec reads them, integers, times', (t) => {
  t.deepEqual(parseLogQuery(q(''), NOW), { follow: false, previous: false, timestamps: false });
  t.deepEqual(parseLogQuery(q('follow=true&previous=1&timestamps'), NOW), { follow: true, previous: true, timestamps: true });
  t.deepEqual(parseLogQuery(q('follow=false&previous=0&timestamps=FALSE'), NOW), { follow: false, previous: false, timestamps: false });
  const o = parseLogQuery(q('tailLines=10&limitBytes=500&sinceSeconds=60'), NOW);
  t.is(o.tailLines, 10);
  t.is(o.limitBytes, 500);
  t.is(o.sinceTime!.toISOString(), '2026-01-02T03:03:05.000Z');
  t.is(parseLogQuery(q('sinceTime=2026-01-01T00:00:00Z'), NOW).sinceTime!.toISOString(), '2026-01-01T00:00:00.000Z');
  t.is(parseLogQuery(q('sinceTime=2026-01-01T02:00:00.5%2B02:00'), NOW).sinceTime!.toISOString(), '2026-01-01T00:00:00.500Z');
  t.is(parseLogQuery(q('stream=Stderr'), NOW).stream, 'stderr');
  t.is(parseLogQuery(q('stream=All'), NOW).stream, undefined);
});

test('the legacy tail parameter', (t) => {
  t.is(parseLogQuery(q('tail=5'), NOW).tailLines, 5);
  t.is(parseLogQuery(q('tail=all&tailLines=3'), NOW).tailLines, undefined);
});

function code(t: import('ava').ExecutionContext, fn: () => unknown, expected: number, msg: RegExp) {
  const e = t.throws(fn, { instanceOf: HttpError });
  t.is(e?.code, expected);
  t.regex(e?.message ?? '', msg);
}

test('undecodable log options are 400, invalid ones 422 as upstream validates them', (t) => {
  code(t, () => parseLogQuery(q('tailLines=abc')), 400, /tailLines/);
  code(t, () => parseLogQuery(q('limitBytes=1.5')), 400, /limitBytes/);
  code(t, () => parseLogQuery(q('sinceTime=yesterday')), 400, /sinceTime/);
  code(t, () => parseLogQuery(q('tailLines=-1')), 422, /tailLines: Invalid value: -1/);
  code(t, () => parseLogQuery(q('limitBytes=0')), 422, /limitBytes/);
  code(t, () => parseLogQuery(q('sinceSeconds=0')), 422, /sinceSeconds/);
  code(t, () => parseLogQuery(q('sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z')), 422, /at most one/);
  code(t, () => parseLogQuery(q('stream=Both')), 422, /stream/);
});

test('exec and attach stream options', (t) => {
  t.deepEqual(parseStreamQuery(q('command=sh&command=-c&command=echo%20hi&stdout=1&stderr=1'), 'exec'), {
    stdin: false,
    stdout: true,
    stderr: true,
    tty: false,
    command: ['sh', '-c', 'echo hi'],
  });
  t.deepEqual(
    parseStreamQuery(q('stdin=true&stdout=true&stderr=true&tty=true'), 'attach'),
    {
      stdin: true,
      stdout: true,
      stderr: false,
      tty: true,
      command: [],
    },
    'a tty has no separate stderr',
  );
  code(t, () => parseStreamQuery(q('command=ls'), 'exec'), 400, /at least 1 of stdin, stdout, stderr/);
  code(t, () => parseStreamQuery(q('stdout=1'), 'exec'), 400, /command/);
});

test('port-forward ports', (t) => {
  t.deepEqual(parsePorts(q('')), []);
  t.deepEqual(parsePorts(q('port=8080')), [8080]);
  t.deepEqual(parsePorts(q('port=80,443&port=8080')), [80, 443, 8080]);
  code(t, () => parsePorts(q('port=0')), 400, /port/);
  code(t, () => parsePorts(q('port=65536')), 400, /port/);
  code(t, () => parsePorts(q('port=http')), 400, /port/);
});
