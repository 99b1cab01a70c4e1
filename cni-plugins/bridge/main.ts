// bridge plugin entry point (bundled to dist/cni/bridge.cjs). Our own host-local runs in-process.
import { pluginMain } from '../skel/skel.ts';
import { useInProcess } from '../pkg/inprocess.ts';
import { hostLocal } from '../host-local/plugin.ts';
import { bridge } from './plugin.ts';

useInProcess({ 'host-local': hostLocal });
void pluginMain(bridge);
