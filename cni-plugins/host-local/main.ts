// host-local IPAM plugin entry point (bundled to dist/cni/host-local.cjs).
import { pluginMain } from '../skel/skel.ts';
import { hostLocal } from './plugin.ts';

void pluginMain(hostLocal);
