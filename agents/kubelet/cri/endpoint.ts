// --container-runtime-endpoint as upstream's kubelet takes it: `unix:///run/containerd/containerd.sock`
// (the documented form) or a bare socket path (deprecated upstream, kept here since hawser's own
// configs have always written one). Any other scheme is refused with upstream's words, before the
// kubelet starts, rather than dialled as a relative path.
import { isAbsolute, resolve } from 'node:path';

/** The unix socket path of a CRI endpoint. */
export function criSocketPath(endpoint: string): string {
  const e = endpoint.trim();
  if (!e) throw new Error('--container-runtime-endpoint is empty: give unix:///run/containerd/containerd.sock or a socket path');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/.exec(e);
  if (!m) return resolve(e);
  if (m[1].toLowerCase() !== 'unix') throw new Error(`protocol "${m[1]}" not supported: --container-runtime-endpoint must be unix://<socket path>`);
  if (!isAbsolute(m[2])) throw new Error(`--container-runtime-endpoint "${e}": the socket path must be absolute (unix:///run/...)`);
  return m[2];
}
