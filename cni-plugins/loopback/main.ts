// loopback plugin entry point (bundled to dist/cni/loopback.cjs).
import { pluginMain } from '../skel/skel.ts';
import { loopback } from './plugin.ts';

void pluginMain(loopback);
