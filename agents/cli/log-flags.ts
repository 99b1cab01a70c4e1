// Log controls every component takes, declared once: -v/--v (klog's verbosity, as kube-* take it),
// --log-level (the level by name; wins over -v) and --log-format text|json (text by default when
// stderr is a terminal, JSON lines otherwise, as the journal and log collectors want). They reach
// every logger through HAWSER_LOG_LEVEL and HAWSER_LOG_FORMAT (agents/api/log.ts).
import type { Command } from 'commander';
import { addFlags, type Flag, type Settings } from './flags/spec.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';

/** klog verbosity -> level: 0-3 info, 4-5 debug (upstream's "debug" range), 6 and up trace. */
export function levelOfVerbosity(v: number): LogLevel {
  return v >= 6 ? 'trace' : v >= 4 ? 'debug' : 'info';
}

function verbosity(v: string): number {
  const n = Number(v.replace(/^=/, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid -v "${v}": a verbosity from 0 (use e.g. -v 4 for debug)`);
  return n;
}

function level(v: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new Error(`invalid --log-level "${v}": one of ${LOG_LEVELS.join(', ')}`);
  return v as LogLevel;
}

function format(v: string): LogFormat {
  if (v !== 'text' && v !== 'json') throw new Error(`invalid --log-format "${v}": text or json`);
  return v;
}

export const logSpec = {
  v: { short: 'v', arg: '<n>', doc: 'log verbosity as klog counts it: 0-3 info, 4-5 debug, 6+ trace', parse: verbosity } satisfies Flag<number>,
  'log-level': { arg: '<level>', doc: `log level: ${LOG_LEVELS.join(', ')} (wins over -v; default info)`, parse: level } satisfies Flag<LogLevel>,
  'log-format': { arg: '<format>', doc: 'text or json lines (default: text on a terminal, json otherwise)', parse: format } satisfies Flag<LogFormat>,
} as const;

export const logFlags = <C extends Command>(c: C): C => addFlags(c, logSpec);

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
}

/** The parsed flags (and the environment's existing choice) -> what the loggers use. Pure. */
export function logSettings(o: { v?: number; logLevel?: LogLevel; logFormat?: LogFormat }, env: { level?: string; tty: boolean }): LogSettings {
  const fallback = (LOG_LEVELS as readonly string[]).includes(env.level ?? '') ? (env.level as LogLevel) : 'info';
  return {
    level: o.logLevel ?? (o.v !== undefined ? levelOfVerbosity(o.v) : fallback),
    format: o.logFormat ?? (env.tty ? 'text' : 'json'),
  };
}

/** Sets the loggers' environment from a command's settings (its flags merged with its YAML file), before the component starts. */
export function applyLogFlags(o: Partial<Settings<typeof logSpec>>): void {
  const s = logSettings(o, { level: process.env.HAWSER_LOG_LEVEL, tty: !!process.stderr.isTTY });
  process.env.HAWSER_LOG_LEVEL = s.level;
  process.env.HAWSER_LOG_FORMAT = s.format;
}
