// The bridge plugin's verbs.
import type { PluginFuncs } from '../skel/skel.ts';
import { cmdAdd } from './add.ts';
import { cmdCheck } from './check.ts';
import { cmdDel } from './del.ts';

export const bridge: PluginFuncs = {
  add: cmdAdd,
  del: cmdDel,
  check: cmdCheck,
  about: 'hawser-cni-plugin bridge',
};
