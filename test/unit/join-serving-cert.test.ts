// Who gets a kubelet serving certificate from the control plane, and for which names.
import test from 'ava';
import { nodeOf, servingSANs } from '../../agents/control-plane/join/serving-cert.ts';

test("only a node's own client identity, in system:nodes, gets one", (t) => {
  t.is(nodeOf({ name: 'system:node:w1', groups: ['system:nodes', 'system:authenticated'] }), 'w1');
  for (const u of [undefined, { name: 'admin', groups: ['system:masters'] }, { name: 'system:node:w1', groups: ['system:authenticated'] }])
    t.throws(() => nodeOf(u), { message: /cannot get a kubelet serving certificate/ });
});

test('the certificate names the node and the IPs it claims, nothing else', (t) => {
  t.deepEqual(servingSANs('w1', { addresses: ['10.0.0.5', '127.0.0.1', '10.0.0.5', 'fd00::5'] }), ['w1', '10.0.0.5', '127.0.0.1', 'fd00::5']);
  for (const body of [
    {},
    { addresses: ['evil.example.com'] },
    { addresses: 'x' },
    { addresses: Array(17).fill('10.0.0.1') },
    null,
    JSON.parse('{"__proto__":{"addresses":["10.0.0.1"]}}'),
  ])
    t.throws(() => servingSANs('w1', body), { message: /addresses must be a list of at most 16 IP addresses/ });
});
