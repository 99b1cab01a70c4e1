// --container-runtime-endpoint takes upstream's unix:// form as well as a bare path, and refuses
// other schemes instead of dialling them as a relative file name.
import test from 'ava';
import { criSocketPath } from '../../agents/kubelet/cri/endpoint.ts';
import { kubeletOptions } from '../../agents/cli/node-flags.ts';

test('unix:// endpoints and bare paths give the socket path', (t) => {
  t.is(criSocketPath('unix:///run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
  t.is(criSocketPath('UNIX:///var/run/crio/crio.sock'), '/var/run/crio/crio.sock');
  t.is(criSocketPath('/run/containerd/containerd.sock'), '/run/containerd/containerd.sock');
});

test('other schemes, relative unix paths and empty values are refused with what to give', (t) => {
  t.throws(() => criSocketPath('tcp://127.0.0.1:1234'), { message: /protocol "tcp" not supported/ });
  t.throws(() => criSocketPath('npipe:////./pipe/containerd'), { message: /protocol "npipe" not supported/ });
  t.throws(() => criSocketPath('unix://run/containerd.sock'), { message: /must be absolute/ });
  t.throws(() => criSocketPath(' '), { message: /empty/ });
});

test('the kubelet options carry the path, whichever form the flag had', (t) => {
  const base = {
    nodeName: 'n',
    kubeconfig: 'k',
    rootDir: '/r',
    podLogDir: '/l',
    cgroupRoot: '/kubepods',
    cgroupDriver: 'cgroupfs',
    podMaxPids: -1,
    maxPods: 110,
    port: 10250,
  };
  t.is(kubeletOptions({ ...base, containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock' }).runtimeEndpoint, '/run/containerd/containerd.sock');
});
