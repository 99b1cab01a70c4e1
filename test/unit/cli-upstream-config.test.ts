// `hawser kubelet --config` and `hawser kube-proxy --config` read upstream's KubeletConfiguration and
// KubeProxyConfiguration (here as kubeadm writes them) for the fields hawser implements, and name the
// set fields they ignore; hawser's own YAML keeps working beside them.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { addFlags, type Spec } from '../../agents/cli/flags/spec.ts';
import { kubeletSpec, proxySpec } from '../../agents/cli/flags/node.ts';
import { commandInput, settingsFrom } from '../../agents/cli/config.ts';
import { proxyOptions, toKubeletOptions } from '../../agents/cli/node-flags.ts';

/** The logging block both files have, as kubeadm writes it. */
const logging = (verbosity: number) =>
  [
    'logging:',
    '  flushFrequency: 0',
    '  options:',
    '    json:',
    '      infoBufferSize: "0"',
    '    text:',
    '      infoBufferSize: "0"',
    `  verbosity: ${verbosity}`,
    '',
  ].join('\n');

// kubeadm v1.35's /var/lib/kubelet/config.yaml, with the fields a cluster commonly sets
const KUBELET = `apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 0s
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 0s
    cacheUnauthorizedTTL: 0s
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
containerRuntimeEndpoint: ""
cpuManagerReconcilePeriod: 0s
evictionHard:
  memory.available: 200Mi
  nodefs.available: 10%
evictionPressureTransitionPeriod: 0s
fileCheckFrequency: 0s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
httpCheckFrequency: 0s
imageMaximumGCAge: 0s
imageMinimumGCAge: 0s
kind: KubeletConfiguration
${logging(4)}maxPods: 60
memorySwap: {}
nodeStatusReportFrequency: 0s
nodeStatusUpdateFrequency: 0s
readOnlyPort: 10255
registerWithTaints:
- key: dedicated
  value: infra
  effect: NoSchedule
rotateCertificates: true
runtimeRequestTimeout: 0s
shutdownGracePeriod: 0s
shutdownGracePeriodCriticalPods: 0s
staticPodPath: /etc/kubernetes/manifests
streamingConnectionIdleTimeout: 0s
syncFrequency: 0s
systemReserved:
  cpu: 100m
  memory: 256Mi
volumeStatsAggPeriod: 0s
`;

// kubeadm's kube-proxy ConfigMap (config.conf), nftables mode
const PROXY = `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: worker1
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: true
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
${logging(0)}metricsBindAddress: 0.0.0.0:10249
mode: nftables
nftables:
  masqueradeAll: true
  masqueradeBit: null
  minSyncPeriod: 2s
  syncPeriod: 1m0s
nodePortAddresses:
- 192.168.56.0/24
oomScoreAdj: -999
portRange: ""
showHiddenMetricsForAlpha: ""
`;

/** The command's input from a --config file with this text (and these extra arguments). */
function inputOf(spec: Spec, name: string, text: string, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-upstream-'));
  try {
    writeFileSync(join(dir, 'config.yaml'), text);
    const cmd = addFlags(new Command(name).exitOverride(), spec);
    cmd.parse(['--config', join(dir, 'config.yaml'), ...args], { from: 'user' });
    return commandInput(spec, cmd, name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a kubeadm KubeletConfiguration sets the kubelet fields hawser implements and names the ones it ignores', (t) => {
  const input = inputOf(kubeletSpec, 'kubelet', KUBELET, ['--max-pods', '30']);
  const o = toKubeletOptions(settingsFrom(kubeletSpec, input));
  t.like(o, {
    cgroupDriver: 'systemd',
    clusterDNS: ['10.96.0.10'],
    clusterDomain: 'cluster.local',
    maxPods: 30,
    healthzPort: 10248,
    podManifestPath: '/etc/kubernetes/manifests',
    evictionHard: 'memory.available<200Mi,nodefs.available<10%',
    systemReserved: 'cpu=100m,memory=256Mi',
    registerWithTaints: [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }],
    // zero values (containerRuntimeEndpoint "", imageMinimumGCAge 0s) keep hawser's defaults, as upstream defaults them
    runtimeEndpoint: '/run/containerd/containerd.sock',
    imageMinimumGCAge: '2m',
  });
  t.is(settingsFrom(kubeletSpec, input).v, 4);
  t.deepEqual(input.upstream, {
    kind: 'KubeletConfiguration',
    ignored: [
      'authentication.webhook.enabled',
      'authentication.x509.clientCAFile',
      'authorization.mode',
      'healthzBindAddress',
      'readOnlyPort',
      'rotateCertificates',
    ],
  });
});

test("a kubeadm KubeProxyConfiguration sets the mode, its block's sync periods and masquerading, and the rest hawser implements", (t) => {
  const input = inputOf(proxySpec, 'kube-proxy', PROXY);
  const o = proxyOptions(settingsFrom(proxySpec, input));
  t.like(o, {
    nodeName: 'worker1',
    kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf',
    mode: 'nftables',
    clusterCIDR: '10.244.0.0/16',
    minSyncPeriodMs: 2000,
    syncPeriodMs: 60_000,
    masqueradeAll: true,
    nodePortAddresses: ['192.168.56.0/24'],
    metricsBindAddress: '0.0.0.0:10249',
    healthzBindAddress: '0.0.0.0:10256',
    ipvsScheduler: 'rr',
  });
  t.deepEqual(input.upstream, { kind: 'KubeProxyConfiguration', ignored: ['bindAddress', 'ipvs.strictARP', 'oomScoreAdj'] });
});

test("hawser's own YAML still works; a config of another kind or for another command is refused", (t) => {
  t.like(settingsFrom(kubeletSpec, inputOf(kubeletSpec, 'kubelet', 'max-pods: 12\ncluster-dns: 10.0.0.10\n')), { maxPods: 12, clusterDns: ['10.0.0.10'] });
  t.throws(() => inputOf(proxySpec, 'kube-proxy', KUBELET), { message: /a KubeletConfiguration is for `hawser kubelet --config`, not kube-proxy/ });
  t.throws(() => inputOf(kubeletSpec, 'kubelet', 'apiVersion: kubelet.config.k8s.io/v1alpha9\nkind: KubeletConfiguration\n'), {
    message: /kubelet\.config\.k8s\.io\/v1alpha9 KubeletConfiguration is not a config hawser reads/,
  });
});
