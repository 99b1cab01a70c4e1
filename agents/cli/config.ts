// k3s-style configuration: every flag has a default, and a YAML file (--config, or
// /etc/hawser/<command>.yaml when present) may set any of them by the flag's name; a flag given on
// the command line wins over the file.
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';

const camel = (k: string) => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export function withConfigFile<T extends Record<string, unknown>>(cmd: Command, name: string): T {
  const opts = cmd.opts<T & { config?: string }>();
  const path = opts.config ?? (existsSync(`/etc/hawser/${name}.yaml`) ? `/etc/hawser/${name}.yaml` : undefined);
  if (!path) return opts;
  const file = (parse(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...opts };
  for (const [k, v] of Object.entries(file)) {
    const key = camel(k);
    if (!(key in opts) && !cmd.options.some((o) => o.attributeName() === key)) throw new Error(`${path}: unknown setting "${k}"`);
    if (cmd.getOptionValueSource(key) !== 'cli') merged[key] = v;
  }
  return merged as T;
}

export function parseKeyValues(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`expected key=value, got "${part}"`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** key=value:Effect or key:Effect, as kubelet's --register-with-taints. */
export function parseTaints(s: string | undefined): { key: string; value?: string; effect: string }[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((t) => {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
    if (!m) throw new Error(`bad taint "${t}": want key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
    return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
  });
}
