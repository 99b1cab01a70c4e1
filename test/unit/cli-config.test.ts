// Settings parsing shared by the commands (cli/config.ts): labels and taints as the kubelet takes them.
import test from 'ava';
import { parseKeyValues, parseTaints } from '../../agents/cli/config.ts';

test('flag parsing: labels and taints as the kubelet takes them', (t) => {
  t.deepEqual(parseKeyValues('a=1, b=x=y'), { a: '1', b: 'x=y' });
  t.throws(() => parseKeyValues('novalue'));
  t.deepEqual(parseTaints('dedicated=gpu:NoSchedule,spot:NoExecute'), [
    { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
    { key: 'spot', effect: 'NoExecute' },
  ]);
  t.throws(() => parseTaints('k=v:Sometimes'), { message: /bad taint/ });
});
