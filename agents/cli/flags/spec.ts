// A component's flags as data, in the style of k3s's pkg/cli: each flag is declared once (its name,
// value placeholder, default as a user would type it, parser and doc), and everything else is
// derived from that one declaration: the commander options, the typed settings the component's
// options are built from (TypeScript infers their type from the spec), the keys its
// /etc/hawser/<role>.yaml may hold, and the flag reference in docs/flags.md.
import type { Command } from 'commander';

/** One flag. Its name is the key it is declared under in a spec ('data-dir' -> --data-dir, setting dataDir). */
export interface Flag<T> {
  /** value placeholder for help, e.g. '<dir>'; absent: a switch (true when given, else false) */
  readonly arg?: string;
  /** a one-letter alias, e.g. 'v' for -v */
  readonly short?: string;
  readonly doc: string;
  /** the default as it would be typed on the command line; parsed like a given value */
  readonly default?: string;
  /** how help and docs show a default computed on this host (e.g. 'the host name') */
  readonly shown?: string;
  /** a given value (command line, YAML scalar as text) -> the typed setting; throws with what to give */
  readonly parse: (raw: string) => T;
  /** false: command line only, not a key of the YAML file */
  readonly yaml?: boolean;
}

export type Spec = { readonly [name: string]: Flag<unknown> };

/** 'data-dir' -> 'dataDir', as commander names the attribute */
export type Camel<S extends string> = S extends `${infer H}-${infer R}` ? `${H}${Capitalize<Camel<R>>}` : S;
export const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** A flag with a default: its setting is never undefined. */
export type Defaulted<T> = Flag<T> & { readonly default: string };

/** The typed settings of a spec: one property per flag, named as commander names it; undefined only for a flag without a default. */
export type Settings<S extends Spec> = {
  -readonly [K in keyof S & string as Camel<K>]: S[K] extends Flag<infer T> ? (S[K] extends { default: string } ? T : T | undefined) : never;
};

/** The names a YAML file of this spec may set (its flag names without yaml: false). */
export type YamlKey<S extends Spec> = { [K in keyof S & string]: S[K] extends { yaml: false } ? never : K }[keyof S & string];
/** What install and the lab write into a component's YAML file: flag names only, so a typo is a type error. */
export type SettingsFile<S extends Spec> = { [K in YamlKey<S>]?: string | number | boolean };

// ---- flag constructors: a flag without a default is `T | undefined`, with one it is `T` ----

export function value<T>(arg: string, doc: string, parse: (raw: string) => T): Flag<T>;
export function value<T>(arg: string, doc: string, parse: (raw: string) => T, def: string): Defaulted<T>;
export function value<T>(arg: string, doc: string, parse: (raw: string) => T, def?: string): Flag<T> {
  return def === undefined ? { arg, doc, parse } : { arg, doc, parse, default: def };
}

const asText = (v: string): string => v;
export function text(arg: string, doc: string): Flag<string>;
export function text(arg: string, doc: string, def: string): Defaulted<string>;
export function text(arg: string, doc: string, def?: string): Flag<string> {
  return def === undefined ? value(arg, doc, asText) : value(arg, doc, asText, def);
}

export function toNumber(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`invalid value "${v}": a number`);
  return n;
}
export function int(arg: string, doc: string): Flag<number>;
export function int(arg: string, doc: string, def: string): Defaulted<number>;
export function int(arg: string, doc: string, def?: string): Flag<number> {
  return def === undefined ? value(arg, doc, toNumber) : value(arg, doc, toNumber, def);
}

/** Comma-separated values ("" = none). */
export const commaList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A switch: given = true; in YAML true or false. */
export function toggle(doc: string): Defaulted<boolean> {
  return {
    doc,
    default: 'false',
    parse: (v) => {
      if (v === 'true' || v === '') return true;
      if (v === 'false') return false;
      throw new Error(`invalid switch value "${v}": true or false`);
    },
  };
}

/** A default computed on this host, shown in help and docs as `shown`. */
export const hostDefault = <F extends Flag<unknown>>(f: F, shown: string): F => ({ ...f, shown });

/** The same flag, not a YAML key (e.g. --config itself, or an action such as --cleanup). */
export const cliOnly = <F extends Flag<unknown>>(f: F): F & { readonly yaml: false } => ({ ...f, yaml: false });

/** Go-style durations as kube-proxy's flags take them: 500ms, 1s, 30s, 1m; in milliseconds. */
export function duration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v.trim());
  if (!m) throw new Error(`bad duration "${v}": use e.g. 500ms, 1s, 30s, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** Where a component's settings file is; not itself a setting of the file. */
export const configFlag = { config: cliOnly(text('<file>', 'YAML file with any of these settings (keys: the flag names)')) } as const;

// ---- composing specs ----

type Merge<T extends readonly Spec[]> = T extends readonly [infer H extends Spec, ...infer R extends readonly Spec[]] ? H & Merge<R> : unknown;

/** One spec from parts (shared flags + a component's own); a flag declared in two parts is refused. */
export function compose<const T extends readonly Spec[]>(...parts: T): Merge<T> {
  const out: Record<string, Flag<unknown>> = {};
  for (const part of parts) {
    for (const [name, flag] of Object.entries(part)) {
      if (Object.hasOwn(out, name)) throw new Error(`flag --${name} is declared twice`);
      out[name] = flag;
    }
  }
  return out as Merge<T>;
}

// ---- derivations ----

/** The help line's default, as commander shows one. */
const shownDefault = (f: Flag<unknown>): string => (!f.default || !f.arg ? '' : ` (default: ${f.shown ?? f.default})`);

/** A flag's parser, its error naming the flag when the parser's own words do not. */
function parseFlag<T>(name: string, f: Flag<T>, raw: string): T {
  try {
    return f.parse(raw);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(`--${name}`) ? msg : `--${name}: ${msg}`);
  }
}

/** Adds the spec's flags to a commander command; a given value is parsed at once by the flag's parser. */
export function addFlags<C extends Command>(cmd: C, spec: Spec): C {
  for (const [name, f] of Object.entries(spec)) {
    const flags = `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;
    if (f.arg) cmd.option(flags, `${f.doc}${shownDefault(f)}`, (v: string) => parseFlag(name, f, v));
    else cmd.option(flags, f.doc);
  }
  return cmd;
}

/** A YAML scalar (or a list of them, joined by commas) as the text a flag parses. */
function rawText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => ['string', 'number', 'boolean'].includes(typeof x))) return v.join(',');
  throw new Error(`expected a string, number, boolean or a list of them, got ${JSON.stringify(v)}`);
}

/** The flag a YAML key names: its flag name, or the camelCase setting name; undefined if none or CLI-only. */
export function yamlFlag(spec: Spec, key: string): string | undefined {
  const c = camel(key);
  return Object.keys(spec).find((n) => spec[n].yaml !== false && camel(n) === c);
}

/**
 * The typed settings: a value given on the command line (already parsed by commander) wins over one
 * from a file (`raw`, keyed by setting name, parsed here), which wins over the default.
 */
export function settingsOf<S extends Spec>(spec: S, given: Readonly<Record<string, unknown>>, raw: Readonly<Record<string, unknown>> = {}): Settings<S> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(spec)) {
    const key = camel(name);
    if (given[key] !== undefined) {
      out[key] = given[key];
      continue;
    }
    const text = rawText(raw[key]) ?? f.default;
    out[key] = text === undefined ? undefined : parseFlag(name, f, text);
  }
  return out as Settings<S>;
}
