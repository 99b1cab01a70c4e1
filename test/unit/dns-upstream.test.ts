// Which upstream resolvers a resolv.conf names, and that the server never forwards to itself.
import test from 'ava';
import { parseNameservers, withoutSelf } from '../../agents/control-plane/dns/upstream.ts';

test('nameserver lines: plain IPv4/IPv6, ip:port and [ipv6]:port; comments and junk ignored', (t) => {
  const text = [
    '# generated',
    'search example.com',
    'nameserver 192.0.2.53',
    'nameserver 2001:db8::53 ; v6',
    'nameserver 127.0.0.1:5353',
    'nameserver [::1]:5354',
    'nameserver not-an-ip',
    'nameserver',
    'options ndots:2',
    'nameserver 192.0.2.1:0',
    ';nameserver 192.0.2.99',
  ].join('\n');
  t.deepEqual(parseNameservers(text), [
    { host: '192.0.2.53', port: 53 },
    { host: '2001:db8::53', port: 53 },
    { host: '127.0.0.1', port: 5353 },
    { host: '::1', port: 5354 },
  ]);
  t.deepEqual(parseNameservers(''), []);
});

test('forwarding to our own address and port is dropped (it would loop), other ports kept', (t) => {
  const ups = [
    { host: '127.0.0.1', port: 53 },
    { host: '10.0.0.5', port: 53 },
    { host: '192.0.2.53', port: 53 },
    { host: '127.0.0.53', port: 53 },
    { host: '127.0.0.1', port: 5353 },
  ];
  t.deepEqual(
    withoutSelf(ups, '127.0.0.1', 53, []),
    ups.filter((_, i) => i !== 0),
  );
  t.deepEqual(withoutSelf(ups, '0.0.0.0', 53, ['10.0.0.5', '127.0.0.1']), [
    { host: '192.0.2.53', port: 53 },
    { host: '127.0.0.1', port: 5353 },
  ]);
  t.deepEqual(withoutSelf(ups, '10.0.0.5', 5300, ['10.0.0.5']), ups);
});
