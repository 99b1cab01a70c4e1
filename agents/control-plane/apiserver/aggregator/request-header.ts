// The front proxy's side of upstream's requestheader authentication, shared by the aggregator's
// transport (which sets the headers) and the ConfigMap that tells aggregated servers their names.
export interface FrontProxyCredentials {
  cert: string;
  key: string;
}

/** Upstream's requestheader names, as the extension-apiserver-authentication ConfigMap publishes them. */
export const REQUEST_HEADERS = { user: 'X-Remote-User', group: 'X-Remote-Group', extraPrefix: 'X-Remote-Extra-' };
