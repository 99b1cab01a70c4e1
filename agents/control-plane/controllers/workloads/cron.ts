// Standard 5-field cron schedules as CronJobs use them (minute hour day-of-month month
// day-of-week; names, ranges, steps, lists, `?`; @yearly/@annually/@monthly/@weekly/@daily/
// @midnight/@hourly and @every <duration>), with an optional IANA time zone, and the next
// activation after a given instant. As in the usual cron rule, when both day fields are
// restricted a day matches if either does.
import { getOwn } from '../../apiserver/safe-keys.ts';

export interface Schedule {
  next(afterMs: number): number | undefined;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface Field {
  values: Set<number>;
  star: boolean;
}

function parseValue(s: string, min: number, max: number, names?: string[]): number {
  const byName = names?.indexOf(s.toLowerCase()) ?? -1;
  const n = byName >= 0 ? byName + min : /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`value "${s}" out of range ${min}-${max}`);
  return n;
}

function parseField(expr: string, min: number, max: number, names?: string[]): Field {
  const values = new Set<number>();
  let star = false;
  for (const part of expr.split(',')) {
    const [range, stepText, ...rest] = part.split('/');
    if (rest.length || range === '') throw new Error(`bad field "${expr}"`);
    const step = stepText === undefined ? 1 : parseValue(stepText, 1, max - min + 1);
    let lo: number, hi: number;
    if (range === '*' || range === '?') {
      [lo, hi] = [min, max];
      if (step === 1) star = true;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      [lo, hi] = [parseValue(a, min, max, names), parseValue(b, min, max, names)];
      if (lo > hi) throw new Error(`bad range "${range}"`);
    } else {
      lo = parseValue(range, min, max, names);
      hi = stepText === undefined ? lo : max; // "N/step" means N through the end
    }
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, star };
}

/** A Go-style duration: "1h30m", "90s", "2h". */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let used = 0;
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2] as 'h' | 'm' | 's' | 'ms'];
    used += m[0].length;
  }
  if (!s || used !== s.length || total <= 0) throw new Error(`bad duration "${s}"`);
  return total;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at this instant (ms). */
function offsetMs(zone: string, instant: number): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(instant)).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

const toWall = (zone: string, t: number) => t + offsetMs(zone, t);
function toInstant(zone: string, wall: number): number {
  const guess = wall - offsetMs(zone, wall);
  return wall - offsetMs(zone, guess);
}

/** Throws on an unknown zone, as upstream rejects one. */
export function checkTimeZone(zone: string): void {
  offsetMs(zone, 0);
}

const MINUTE = 60_000;
const HORIZON_MS = 5 * 366 * 24 * 3_600_000;

export function parseSchedule(text: string, timeZone?: string): Schedule {
  let spec = text.trim();
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(spec);
  if (tz) {
    if (timeZone) throw new Error('a time zone in the schedule and in spec.timeZone at once is not allowed');
    [timeZone, spec] = [tz[1], tz[2]];
  }
  const zone = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  checkTimeZone(zone);
  if (spec.startsWith('@every ')) {
    const every = parseDuration(spec.slice(7).trim());
    return { next: (after) => Math.floor(after / 1000) * 1000 + every };
  }
  const fields = (getOwn(MACROS, spec) ?? spec).split(/\s+/);
  if (fields.length !== 5) throw new Error(`expected exactly 5 fields, found ${fields.length}: "${text}"`);
  const [min, hour, dom, mon, dow] = [
    parseField(fields[0], 0, 59),
    parseField(fields[1], 0, 23),
    parseField(fields[2], 1, 31),
    parseField(fields[3], 1, 12, MONTHS),
    parseField(fields[4], 0, 6, DAYS),
  ];
  const dayMatches = (d: Date) => {
    const a = dom.values.has(d.getUTCDate());
    const b = dow.values.has(d.getUTCDay());
    return dom.star || dow.star ? a && b : a || b;
  };
  return {
    next(after) {
      // walk the wall clock field by field (month, day, hour, minute), then map back to an instant
      let w = Math.floor(toWall(zone, after) / MINUTE) * MINUTE + MINUTE;
      const end = w + HORIZON_MS;
      while (w < end) {
        const d = new Date(w);
        if (!mon.values.has(d.getUTCMonth() + 1)) {
          w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
          continue;
        }
        if (!dayMatches(d)) {
          w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
          continue;
        }
        if (!hour.values.has(d.getUTCHours())) {
          w = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours() + 1);
          continue;
        }
        if (!min.values.has(d.getUTCMinutes())) {
          w += MINUTE;
          continue;
        }
        const t = toInstant(zone, w);
        // a wall time skipped by a DST jump, or an hour repeated by one, is not a new activation
        if (toWall(zone, t) === w && t > after) return t;
        w += MINUTE;
      }
      return undefined;
    },
  };
}
