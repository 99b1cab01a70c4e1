// Upstream's component config files, read for the fields hawser implements: a
// kubelet.config.k8s.io/v1beta1 KubeletConfiguration (as kubeadm writes /var/lib/kubelet/config.yaml)
// for `hawser kubelet --config`, a kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration for
// `hawser kube-proxy --config`. Each field maps onto a flag of the command's spec; a field set to
// anything but its zero value that hawser does not implement is named in `ignored` (the command
// logs them at start; docs/flags.md lists the mapping). Detected by apiVersion and kind.
import { parseDuration } from '../../kubelet/options.ts';

type Doc = Readonly<Record<string, unknown>>;

export interface UpstreamConfig {
  kind: string;
  /** hawser settings (setting names, unparsed values) */
  raw: Record<string, unknown>;
  /** the dotted paths of set fields hawser does not implement */
  ignored: string[];
}

interface Kind {
  apiVersion: string;
  kind: string;
  command: string;
  /** upstream field path -> hawser setting (and how its value becomes the setting's text) */
  fields: Readonly<Record<string, { setting: string; value?: (v: unknown) => unknown }>>;
}

/** Go durations as upstream writes them (30s, 1m0s); hawser's flags take ms/s/m/h, so as milliseconds. */
const goDuration = (v: unknown): unknown => (typeof v === 'string' ? `${parseDuration(v)}ms` : v);
const list = (v: unknown): unknown => (Array.isArray(v) ? v.join(',') : v);
/** map[string]string as "k=v,..." (systemReserved, kubeReserved) */
const pairs =
  (sep: string) =>
  (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.entries(v)
          .map(([k, q]) => `${k}${sep}${String(q)}`)
          .join(',')
      : v;
const taints = (v: unknown): unknown =>
  Array.isArray(v) ? v.map((t: { key?: string; value?: string; effect?: string }) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(',') : v;

export const UPSTREAM_KINDS: readonly Kind[] = [
  {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    command: 'kubelet',
    fields: {
      containerRuntimeEndpoint: { setting: 'containerRuntimeEndpoint' },
      staticPodPath: { setting: 'podManifestPath' },
      cgroupDriver: { setting: 'cgroupDriver' },
      cgroupRoot: { setting: 'cgroupRoot' },
      podPidsLimit: { setting: 'podMaxPids' },
      maxPods: { setting: 'maxPods' },
      port: { setting: 'port' },
      healthzPort: { setting: 'healthzPort' },
      resolvConf: { setting: 'resolvConf' },
      clusterDNS: { setting: 'clusterDns', value: list },
      clusterDomain: { setting: 'clusterDomain' },
      registerWithTaints: { setting: 'registerWithTaints', value: taints },
      systemReserved: { setting: 'systemReserved', value: pairs('=') },
      kubeReserved: { setting: 'kubeReserved', value: pairs('=') },
      evictionHard: { setting: 'evictionHard', value: pairs('<') },
      imageGCHighThresholdPercent: { setting: 'imageGcHighThreshold' },
      imageGCLowThresholdPercent: { setting: 'imageGcLowThreshold' },
      imageMinimumGCAge: { setting: 'minimumImageTtlDuration' },
      'logging.verbosity': { setting: 'v' },
      'logging.format': { setting: 'logFormat' },
    },
  },
  {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    command: 'kube-proxy',
    fields: {
      hostnameOverride: { setting: 'nodeName' },
      'clientConnection.kubeconfig': { setting: 'kubeconfig' },
      mode: { setting: 'proxyMode' },
      clusterCIDR: { setting: 'clusterCidr' },
      healthzBindAddress: { setting: 'healthzBindAddress' },
      metricsBindAddress: { setting: 'metricsBindAddress' },
      nodePortAddresses: { setting: 'nodeportAddresses', value: list },
      'ipvs.scheduler': { setting: 'ipvsScheduler' },
      'logging.verbosity': { setting: 'v' },
      'logging.format': { setting: 'logFormat' },
      // from the mode's own block (iptables, nftables or ipvs): see proxyView
      syncPeriod: { setting: 'syncPeriod', value: goDuration },
      minSyncPeriod: { setting: 'minSyncPeriod', value: goDuration },
      masqueradeAll: { setting: 'masqueradeAll' },
    },
  },
];

/** Go's zero values as kubeadm writes them for unset fields: upstream defaults those, so hawser does too. */
function isZero(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false || v === 0 || v === '0s' || v === '0') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

/** Every field of a document as [dotted path, value]: a mapped field whole (evictionHard is a map), else each leaf. */
function leaves(doc: Doc, fields: Kind['fields'], prefix = ''): [string, unknown][] {
  return Object.entries(doc).flatMap(([k, v]): [string, unknown][] => {
    const path = `${prefix}${k}`;
    if (Object.hasOwn(fields, path) || !v || typeof v !== 'object' || Array.isArray(v)) return [[path, v]];
    return leaves(v as Doc, fields, `${path}.`);
  });
}

/** kube-proxy takes syncPeriod, minSyncPeriod and masqueradeAll from its mode's block (iptables by default). */
function proxyView(doc: Doc): Doc {
  const mode = typeof doc.mode === 'string' && doc.mode ? doc.mode : 'iptables';
  const block = doc[mode];
  if (!block || typeof block !== 'object' || Array.isArray(block)) return doc;
  const { syncPeriod, minSyncPeriod, masqueradeAll, ...rest } = block as Doc;
  return { ...doc, [mode]: rest, syncPeriod, minSyncPeriod, masqueradeAll };
}

/** An upstream config document as hawser settings, or undefined when the document is hawser's own. */
export function fromUpstream(doc: Doc, command: string): UpstreamConfig | undefined {
  const kind = UPSTREAM_KINDS.find((k) => k.apiVersion === doc.apiVersion && k.kind === doc.kind);
  if (!kind) {
    if (typeof doc.apiVersion === 'string' || typeof doc.kind === 'string') {
      throw new Error(
        `${String(doc.apiVersion)} ${String(doc.kind)} is not a config hawser reads (${UPSTREAM_KINDS.map((k) => `${k.apiVersion} ${k.kind}`).join(', ')}, or hawser's own keys)`,
      );
    }
    return undefined;
  }
  if (kind.command !== command) throw new Error(`a ${kind.kind} is for \`hawser ${kind.command} --config\`, not ${command}`);
  const raw: Record<string, unknown> = {};
  const ignored: string[] = [];
  const view = kind.kind === 'KubeProxyConfiguration' ? proxyView(doc) : doc;
  for (const [path, v] of leaves(view, kind.fields)) {
    if (path === 'apiVersion' || path === 'kind') continue;
    const field = Object.hasOwn(kind.fields, path) ? kind.fields[path] : undefined;
    if (!field) {
      if (!isZero(v)) ignored.push(path);
    } else if (!isZero(v) || typeof v === 'number' || v === false) {
      raw[field.setting] = field.value ? field.value(v) : v;
    }
  }
  return { kind: kind.kind, raw, ignored };
}
