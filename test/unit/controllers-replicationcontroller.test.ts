// The ReplicationController controller (controllers/workloads/replicationcontroller.ts): its selector as an equality map.
import test from 'ava';
import { equalitySelector } from '../../agents/control-plane/controllers/workloads/replicationcontroller.ts';

test('an RC selector is an equality map; an empty one selects nothing', (t) => {
  t.true(equalitySelector({ app: 'a', tier: 'b' })({ app: 'a', tier: 'b', x: 'y' }));
  t.false(equalitySelector({ app: 'a', tier: 'b' })({ app: 'a' }));
  t.false(equalitySelector({})({ app: 'a' }));
});
