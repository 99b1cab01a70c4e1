// The netns lab's topology (cli/lab/topology.ts): names and addresses, pod networks apart from every lab subnet, pod routes.
import test from 'ava';
import { labClusterCIDR, podRoutes, topology } from '../../agents/cli/lab/topology.ts';
import { cidrsOverlap as overlaps } from '../../agents/api/ip.ts';

test('lab topology: names and addresses from name, subnet and worker count', (t) => {
  const l = topology({ name: 'hawser', subnet: '10.77.0.0/24', workers: 2, stateRoot: '/s' });
  t.is(l.bridgeIP, '10.77.0.1');
  t.is(l.server, 'https://10.77.0.1:6443');
  t.deepEqual(
    l.nodes.map((n) => [n.name, n.ip, n.hostVeth]),
    [
      ['hawser-worker1', '10.77.0.11', 'hawser-w1'],
      ['hawser-worker2', '10.77.0.12', 'hawser-w2'],
    ],
  );
  t.true(
    l.nodes.every((n) => n.hostVeth.length <= 15 && l.bridge.length <= 15),
    'link names fit IFNAMSIZ',
  );
  t.throws(() => topology({ name: 'Bad_Name', subnet: '10.77.0.0/24', workers: 2, stateRoot: '/s' }), { message: /lab name/ });
  t.throws(() => topology({ name: 'x', subnet: '10.77.0.0/16', workers: 2, stateRoot: '/s' }), { message: /\/24/ });
});

test('lab pod networks: one /16 per lab subnet, apart from every lab subnet and the Services', (t) => {
  t.is(topology({ name: 'hawser', subnet: '10.77.0.0/24', workers: 2, stateRoot: '/s' }).clusterCIDR, '10.205.0.0/16');
  t.is(labClusterCIDR('10.80.0.0/24'), '10.208.0.0/16');
  const subnets = Array.from({ length: 127 }, (_, i) => `10.${i + 1}.0.0/24`).filter((s) => !overlaps(s, '10.96.0.0/12'));
  const pods = subnets.map(labClusterCIDR);
  for (const [i, p] of pods.entries()) {
    t.false(overlaps(p, '10.96.0.0/12'), p);
    t.false(
      subnets.some((s) => overlaps(p, s)),
      `${p} meets no lab subnet`,
    );
    t.false(
      pods.some((q, j) => j !== i && overlaps(p, q)),
      `${p} meets no other lab's pods`,
    );
  }
  t.throws(() => labClusterCIDR('10.100.0.0/24'), { message: /10\.96\.0\.0\/12/ });
  t.throws(() => labClusterCIDR('10.200.0.0/24'), { message: /A from 1 to 127/ });
  t.throws(() => topology({ name: 'x', subnet: '192.168.5.0/24', workers: 2, stateRoot: '/s' }), { message: /10\.A\.0\.0\/24/ });
});

test("lab pod routes: each own node's podCIDR inside the pod network, via its lab address", (t) => {
  const lab = topology({ name: 'px', subnet: '10.76.0.0/24', workers: 2, stateRoot: '/s' });
  t.deepEqual(
    podRoutes(lab, [
      { name: 'px-worker1', podCIDR: '10.204.0.0/24' },
      { name: 'px-worker2', podCIDR: '10.204.1.0/24' },
      { name: 'px-worker3', podCIDR: '10.204.2.0/24' },
      { name: 'other', podCIDR: '10.204.3.0/24' },
      { name: 'px-worker1', podCIDR: '10.244.0.0/24' },
      { name: 'px-worker2' },
    ]),
    [
      { dst: '10.204.0.0/24', via: '10.76.0.11' },
      { dst: '10.204.1.0/24', via: '10.76.0.12' },
    ],
  );
});
