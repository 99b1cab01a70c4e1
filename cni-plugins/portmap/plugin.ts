// portmap: placeholder until the full implementation.
import type { PluginFuncs } from '../skel/skel.ts';
export const portmap: PluginFuncs = { add: async () => undefined, del: async () => undefined, about: 'hawser-cni-plugin portmap' };
