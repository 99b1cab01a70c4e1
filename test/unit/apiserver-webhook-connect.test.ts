// admission/connect.ts: the options object a CONNECT request's webhooks get (upstream's v1
// PodAttachOptions / PodExecOptions / PodPortForwardOptions, defaulted), and the query the stream
// goes on with after a mutating webhook changed them.
import test from 'ava';
import { admittedQuery, connectOptions } from '../../agents/control-plane/apiserver/admission/connect.ts';

const q = (s: string) => new URLSearchParams(s);

test('connectOptions: stdout and stderr defaulted true, false and empty fields left out, the command only for exec', (t) => {
  t.deepEqual(connectOptions('attach', q('stdin=true&stdout=false&tty=0&container=c1&command=ls')), {
    kind: 'PodAttachOptions',
    apiVersion: 'v1',
    stdin: true,
    stdout: true,
    stderr: true,
    container: 'c1',
  });
  t.deepEqual(connectOptions('exec', q('command=sh&command=-c&command=id&tty=1')), {
    kind: 'PodExecOptions',
    apiVersion: 'v1',
    stdout: true,
    stderr: true,
    tty: true,
    command: ['sh', '-c', 'id'],
  });
  t.deepEqual(connectOptions('portforward', q('ports=80,443&ports=8080&ports=x')), { kind: 'PodPortForwardOptions', apiVersion: 'v1', ports: [80, 443, 8080] });
});

test('admittedQuery: the request query as it is when the webhooks changed nothing, written from the options when they did', (t) => {
  const query = q('stdin=true&stdout=true&container=c1&command=ls&command=-l&other=kept');
  const sent = connectOptions('exec', query);
  t.is(admittedQuery('exec', query, sent, { ...sent }), query, 'unchanged: the same query');
  // a mutating webhook's answer also carries the metadata the patch path adds; it is not an option
  const mutated = admittedQuery('exec', query, sent, { ...sent, metadata: {}, container: 'sidecar', command: ['id'], stdin: false, tty: 'yes' });
  t.is(mutated.get('container'), 'sidecar');
  t.deepEqual(mutated.getAll('command'), ['id']);
  t.is(mutated.get('stdin'), null);
  t.is(mutated.get('tty'), null, 'a field of the wrong type is dropped');
  t.is(mutated.get('stdout'), 'true');
  t.is(mutated.get('other'), 'kept');
  const pf = connectOptions('portforward', q('ports=80'));
  t.deepEqual(admittedQuery('portforward', q('ports=80'), pf, { ...pf, ports: [81, '82'] }).getAll('ports'), ['81']);
});
