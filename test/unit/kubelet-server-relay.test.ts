// The streaming relay to the runtime (server/relay.ts): client headers kept, the runtime's path and host taken.
import test from 'ava';
import { upstreamHead } from '../../agents/kubelet/server/relay.ts';

test('the relayed request keeps the client headers and takes the runtime path and host', (t) => {
  const head = upstreamHead('POST', new URL('http://127.0.0.1:4321/exec/tok3n'), '?command=ls&stdout=1', [
    'Host',
    '10.0.0.5:10250',
    'Connection',
    'Upgrade',
    'Upgrade',
    'SPDY/3.1',
    'X-Stream-Protocol-Version',
    'v4.channel.k8s.io',
    'X-Stream-Protocol-Version',
    'v3.channel.k8s.io',
  ]);
  t.is(
    head,
    [
      'POST /exec/tok3n?command=ls&stdout=1 HTTP/1.1',
      'Host: 127.0.0.1:4321',
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io',
      'X-Stream-Protocol-Version: v3.channel.k8s.io',
      '',
      '',
    ].join('\r\n'),
  );
  t.regex(upstreamHead('GET', new URL('http://127.0.0.1:1/portforward/t?x=1'), '?port=80', []), /^GET \/portforward\/t\?x=1 HTTP/, 'the runtime query wins');
});
