// k3s-style configuration: every flag has a default, and a YAML file (--config, or
// /etc/hawser/<command>.yaml when present) may set any of them by the flag's name; a flag given on
// the command line wins over the file. Which keys a file may hold is the command's flag spec's.
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { camel, settingsOf, yamlFlag, type Settings, type Spec } from './flags/spec.ts';
import { fromUpstream } from './flags/upstream.ts';

/** A settings file's values keyed by setting name (unparsed); an unknown key is refused. */
export function fileSettings(spec: Spec, path: string, command: string): { raw: Record<string, unknown>; upstream?: { kind: string; ignored: string[] } } {
  const file: unknown = parse(readFileSync(path, 'utf8')) ?? {};
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw new Error(`${path}: expected a mapping of settings`);
  let upstream: ReturnType<typeof fromUpstream>;
  try {
    upstream = fromUpstream(file as Readonly<Record<string, unknown>>, command);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(upstream ? upstream.raw : file)) {
    const name = yamlFlag(spec, k);
    if (!name) throw new Error(`${path}: unknown setting "${k}"`);
    out[camel(name)] = v;
  }
  return upstream ? { raw: out, upstream: { kind: upstream.kind, ignored: upstream.ignored } } : { raw: out };
}

/** What a command was given: its parsed command line and its settings file's values (checked against its spec, not yet parsed). */
export interface CommandInput {
  given: Readonly<Record<string, unknown>>;
  raw: Readonly<Record<string, unknown>>;
  path?: string;
  /** the file was upstream's KubeletConfiguration or KubeProxyConfiguration: its set fields hawser ignores */
  upstream?: { kind: string; ignored: string[] };
}

export function commandInput(spec: Spec, cmd: Command, name: string): CommandInput {
  const given = cmd.opts<Record<string, unknown>>();
  const path = typeof given.config === 'string' ? given.config : existsSync(`/etc/hawser/${name}.yaml`) ? `/etc/hawser/${name}.yaml` : undefined;
  return path ? { given, path, ...fileSettings(spec, path, name) } : { given, raw: {} };
}

/** The typed settings of a spec (the command's, or a part of it such as the log flags): command line over file over defaults. */
export function settingsFrom<S extends Spec>(spec: S, input: CommandInput): Settings<S> {
  try {
    return settingsOf(spec, input.given, input.raw);
  } catch (e) {
    throw input.path ? new Error(`${input.path}: ${(e as Error).message}`) : e;
  }
}

export function parseKeyValues(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`expected key=value, got "${part}"`);
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

/** key=value:Effect or key:Effect, as kubelet's --register-with-taints. */
export function parseTaints(s: string | undefined): { key: string; value?: string; effect: string }[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
      if (!m) throw new Error(`bad taint "${t}": want key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
      return { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
    });
}
