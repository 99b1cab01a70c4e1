// The CNI plugins hawser ships, declared once. Every list of them derives from this one: the bundles
// and shims build.mjs writes, the daemon's dispatch table (daemon/plugins.ts, typed by CniPluginName so
// a missing entry is a type error), `hawser install`'s wrappers, the lab's links, the test kit and the
// bench. A new plugin is one entry here plus its folder cni-plugins/<name>/ with main.ts and plugin.ts.
// No imports: build.mjs loads this file before anything is bundled.

export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;

export type CniPluginName = (typeof CNI_PLUGINS)[number];

/** Where the entry point of a plugin lives, relative to the repository root. */
export const cniPluginEntry = (p: CniPluginName): string => `cni-plugins/${p}/main.ts`;
