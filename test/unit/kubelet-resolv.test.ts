// resolv.conf parsing (pods/resolv.ts) for the pods' DNS config.
import test from 'ava';
import { parseResolvConf } from '../../agents/kubelet/pods/resolv.ts';

test('resolv.conf parsing', (t) => {
  t.deepEqual(parseResolvConf('# c\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch a.b c\noptions ndots:2\n'), {
    servers: ['10.0.0.2', '10.0.0.3'],
    searches: ['a.b', 'c'],
    options: ['ndots:2'],
  });
});
