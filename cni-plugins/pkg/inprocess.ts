// Running our own delegate plugins in-process. When the IPAM plugin found in CNI_PATH is hawser's
// own (our exec shim, or our bundled <type>.cjs), exec'ing it would only start another Node.js
// (~0.1 s) to run code this process already has; so the same dispatch runs here, on the same env and
// config, giving the same stdout and exit code. Anything else is exec'd as the spec describes.
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { dispatch, type PluginFuncs } from '../skel/skel.ts';
import { setInProcessDelegates, type InProcessRunner } from './delegate.ts';

export const SHIM_MARKER = 'hawser-cni-shim';
export const BUNDLE_MARKER = 'hawser-cni-plugin';
/** larger files are not searched for the shim's marker */
const SHIM_MAX_BYTES = 4 << 20;

const cache = new Map<string, { key: string; ours: boolean }>();

function head(path: string, n: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0)).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/** Whether `path` (as found in CNI_PATH for `type`) is our own implementation of that type. */
export function isOwnPlugin(type: string, path: string): boolean {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    const key = `${real}:${st.mtimeMs}:${st.size}`;
    const hit = cache.get(path);
    if (hit?.key === key) return hit.ours;
    let ours = false;
    if (basename(real) === `${type}.cjs`) {
      // <type>.cjs is the code-cache loader (agents/cli/code-cache) of <type>.bundle.cjs beside it
      const bundle = real.replace(/\.cjs$/, '.bundle.cjs');
      ours = head(real, st.size).includes(BUNDLE_MARKER) || (existsSync(bundle) && head(bundle, statSync(bundle).size).includes(BUNDLE_MARKER));
    } else if (st.size < SHIM_MAX_BYTES) {
      // the shim (shim/shim.c, a static binary of about 0.7 MB) carries the marker as a string
      ours = head(real, st.size).includes(SHIM_MARKER);
    }
    cache.set(path, { key, ours });
    return ours;
  } catch {
    return false;
  }
}

/** Register in-process runners for the given plugin types. */
export function useInProcess(plugins: Record<string, PluginFuncs>): void {
  setInProcessDelegates((type, path): InProcessRunner | undefined => {
    const funcs = plugins[type];
    if (!funcs || !isOwnPlugin(type, path)) return undefined;
    return (env, stdin) => dispatch(funcs, { env, stdin });
  });
}
