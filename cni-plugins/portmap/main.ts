// portmap plugin entry point (bundled to dist/cni/portmap.cjs).
import { pluginMain } from '../skel/skel.ts';
import { portmap } from './plugin.ts';

void pluginMain(portmap);
