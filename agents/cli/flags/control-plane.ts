// `hawser control-plane`'s flags, declared once (see spec.ts): the API server, storage, DNS and
// service-account settings of the bundled control plane.
import { parseMaxExpiration } from '../../control-plane/auth/token-expiration.ts';
import { commaList, compose, configFlag, duration, int, text, toggle, value, type Settings } from './spec.ts';
import { logSpec } from '../log-flags.ts';

const controlPlaneOwn = {
  'data-dir': text('<dir>', 'state: database, certificates, kubeconfigs', '/var/lib/hawser/server'),
  'bind-address': text('<ip>', 'address to listen on', '0.0.0.0'),
  port: int('<n>', 'HTTPS port', '6443'),
  'advertise-address': text('<ip>', 'address other hosts reach the API server on (default: the host address of the default route)'),
  'tls-san': value('<names>', 'extra subject alternative names, comma separated', commaList, ''),
  'cluster-cidr': text('<cidr>', 'pod network', '10.244.0.0/16'),
  'node-cidr-mask-size': int('<n>', "size of each node's podCIDR", '24'),
  'service-cidr': text('<cidr>', 'service network', '10.96.0.0/12'),
  'cluster-dns': text('<ip>', 'ClusterIP of the kube-dns Service ("" = no cluster DNS)', '10.96.0.10'),
  'cluster-domain': text('<domain>', 'cluster DNS domain', 'cluster.local'),
  'dns-port': int('<n>', 'port of the DNS server on the advertise address', '53'),
  'resolv-conf': text('<file>', 'upstream resolvers for names outside the cluster', '/etc/resolv.conf'),
  'datastore-endpoint': text('<urls>', 'etcd v3 client URLs, comma separated, e.g. http://127.0.0.1:2379 (default: SQLite in the data dir)'),
  'token-auth-file': text('<file>', 'static bearer tokens: CSV lines token,user,uid,"group1,group2"'),
  'service-account-issuer': text('<url>', "iss of service-account tokens and the API server's audience", 'https://kubernetes.default.svc.cluster.local'),
  // in seconds
  'service-account-max-token-expiration': value(
    '<duration>',
    'longest lifetime of a requested service-account token, e.g. 24h (1h to 2^32 s; default: no cap)',
    parseMaxExpiration,
  ),
  'service-account-extend-token-expiration': value(
    '<bool>',
    "give the kubelet's projected tokens a year of life, warning after the requested 3607 s",
    (v) => v !== 'false',
    'true',
  ),
  'secrets-encryption': toggle('encrypt Secrets at rest (keys in <data-dir>/cred/encryption-config.json, made on first start)'),
  'write-kubeconfig': text('<file>', 'also write the admin kubeconfig here (mode 0600) at each start, e.g. /etc/hawser/admin.kubeconfig'),
  'metric-resolution': value('<duration>', "how often the metrics API scrapes each kubelet's /metrics/resource", duration, '15s'),
  'disable-ingress': toggle('do not create the built-in default IngressClass "hawser" (k3s: --disable traefik)'),
  'disable-servicelb': toggle('run no built-in service load balancer: LoadBalancer Services stay pending (k3s: --disable servicelb)'),
} as const;

export const controlPlaneSpec = compose(configFlag, controlPlaneOwn, logSpec);
export type ControlPlaneSettings = Settings<typeof controlPlaneSpec>;
