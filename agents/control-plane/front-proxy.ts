// What an aggregated API server needs to trust this API server (upstream's --requestheader-*
// flags and clusterauthenticationtrust controller): a front-proxy CA of its own (kept apart from
// the cluster CA, so that its client certificate is no login to this API) and the
// front-proxy-client certificate the aggregator presents, both under <data-dir>/tls/front-proxy
// (keys 0600); and the kube-system/extension-apiserver-authentication ConfigMap that publishes the
// client CA, the requestheader CA, the header names and the allowed names.
import { join } from 'node:path';
import { ApiError } from './apiserver/errors.ts';
import { REQUEST_HEADERS, type FrontProxyCredentials } from './apiserver/aggregator/request-header.ts';
import type { LoopbackClient } from './client/loopback.ts';
import { ensureClientCert, loadOrCreateCA } from './pki.ts';

export const FRONT_PROXY_CLIENT = 'front-proxy-client';

export interface FrontProxy extends FrontProxyCredentials {
  /** PEM of the front-proxy CA (requestheader-client-ca-file) */
  ca: string;
}

export async function ensureFrontProxy(tlsDir: string): Promise<FrontProxy> {
  const dir = join(tlsDir, 'front-proxy');
  const ca = await loadOrCreateCA(dir, 'hawser-front-proxy-ca');
  const client = await ensureClientCert(ca, dir, FRONT_PROXY_CLIENT, FRONT_PROXY_CLIENT, [], 365);
  return { ca: ca.certPem, cert: client.certPem, key: client.keyPem };
}

/** The ConfigMap's data as upstream publishes it (pure). */
export function authenticationConfigData(clientCA: string, frontProxyCA: string): Record<string, string> {
  return {
    'client-ca-file': clientCA,
    'requestheader-allowed-names': JSON.stringify([FRONT_PROXY_CLIENT]),
    'requestheader-client-ca-file': frontProxyCA,
    'requestheader-extra-headers-prefix': JSON.stringify([REQUEST_HEADERS.extraPrefix]),
    'requestheader-group-headers': JSON.stringify([REQUEST_HEADERS.group]),
    'requestheader-username-headers': JSON.stringify([REQUEST_HEADERS.user]),
  };
}

/** Writes kube-system/extension-apiserver-authentication (made, or replaced when it differs). */
export async function publishAuthenticationConfig(client: LoopbackClient, clientCA: string, frontProxyCA: string): Promise<void> {
  const path = '/api/v1/namespaces/kube-system/configmaps';
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'extension-apiserver-authentication', namespace: 'kube-system' },
    data: authenticationConfigData(clientCA, frontProxyCA),
  };
  try {
    await client.create(path, cm);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
    await client.update(`${path}/${cm.metadata.name}`, cm);
  }
}
