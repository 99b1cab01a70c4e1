// Every plugin the daemon serves, by the name the shim is installed under.
import type { PluginFuncs } from '../skel/skel.ts';
import type { CniPluginName } from '../names.ts';
import { bridge } from '../bridge/plugin.ts';
import { hostLocal } from '../host-local/plugin.ts';
import { loopback } from '../loopback/plugin.ts';
import { portmap } from '../portmap/plugin.ts';

export const ALL_PLUGINS: Record<CniPluginName, PluginFuncs> = {
  bridge,
  'host-local': hostLocal,
  loopback,
  portmap,
};
