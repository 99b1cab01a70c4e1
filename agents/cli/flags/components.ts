// Every command's flag spec by name: main.ts builds the commands from it, install and the lab write
// each component's YAML file against it, and docs/flags.md is generated from it.
import type { SettingsFile } from './spec.ts';
import { agentSpec, kubeletSpec, podnetSpec, proxySpec } from './node.ts';
import { controlPlaneSpec } from './control-plane.ts';
import { logSpec } from '../log-flags.ts';

export const COMPONENT_SPECS = {
  'control-plane': controlPlaneSpec,
  kubelet: kubeletSpec,
  podnet: podnetSpec,
  'kube-proxy': proxySpec,
  agent: agentSpec,
  'cni-daemon': logSpec,
} as const;

export type SpecName = keyof typeof COMPONENT_SPECS;
export type Specs = typeof COMPONENT_SPECS;

/** What a component's /etc/hawser/<name>.yaml may hold: its flag names (a typo is a type error). */
export type ComponentFile<C extends SpecName> = C extends SpecName ? SettingsFile<Specs[C]> : never;
