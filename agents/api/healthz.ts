// Named health checks served as upstream's k8s.io/apiserver healthz package serves them, for the
// API server's /livez, /readyz and /healthz and the kubelet's /healthz: the root path runs every
// check ("ok", or with ?verbose one "[+]name ok" line each and "<endpoint> check passed"),
// ?exclude=name skips one ("[+]name excluded: ok"), a failure is a 500 listing
// "[-]name failed: reason withheld" (the endpoint is public) and "<endpoint> check failed", and
// <endpoint>/<name> runs one check ("ok", or 500 "internal server error: <reason>").
export interface HealthCheck {
  name: string;
  /** resolves when healthy; throws (or rejects) with the reason when not */
  check(): void | Promise<void>;
}

export interface HealthReply {
  status: number;
  body: string;
  headers: Record<string, string>;
}

const HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
/** No check may hold a probe longer than this (a hung store is a failed check, not a hung probe). */
const CHECK_TIMEOUT_MS = 5_000;

async function run(c: HealthCheck): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() => c.check()),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

/** The built-in "ping" check, always healthy. */
export const PING: HealthCheck = { name: 'ping', check: () => undefined };
/** Upstream's "log" check: the logger is flushing (ours writes synchronously to stderr). */
export const LOG: HealthCheck = { name: 'log', check: () => undefined };

/**
 * The reply for `subpath` under an endpoint ('' for the root); undefined when no check has that
 * name (the server's own 404). `onFailure` hears the reasons the public reply withholds.
 */
export async function healthReply(
  endpoint: string,
  checks: HealthCheck[],
  subpath: string,
  query: URLSearchParams,
  onFailure?: (failed: { name: string; reason: string }[]) => void,
): Promise<HealthReply | undefined> {
  if (subpath !== '') {
    const one = checks.find((c) => c.name === subpath);
    if (!one) return undefined;
    const reason = await run(one);
    return reason === undefined ? { status: 200, body: 'ok', headers: HEADERS } : { status: 500, body: `internal server error: ${reason}\n`, headers: HEADERS };
  }
  const excluded = new Set(query.getAll('exclude'));
  let out = '';
  const failed: { name: string; reason: string }[] = [];
  const results = await Promise.all(checks.map((c) => (excluded.has(c.name) ? Promise.resolve(null) : run(c))));
  checks.forEach((c, i) => {
    const r = results[i];
    if (r === null) {
      excluded.delete(c.name);
      out += `[+]${c.name} excluded: ok\n`;
    } else if (r !== undefined) {
      out += `[-]${c.name} failed: reason withheld\n`;
      failed.push({ name: c.name, reason: r });
    } else out += `[+]${c.name} ok\n`;
  });
  if (excluded.size)
    out += `warn: some health checks cannot be excluded: no matches for ${[...excluded]
      .sort()
      .map((n) => JSON.stringify(n))
      .join(',')}\n`;
  if (failed.length) {
    onFailure?.(failed);
    return { status: 500, body: `${out}${endpoint} check failed\n`, headers: HEADERS };
  }
  if (!query.has('verbose')) return { status: 200, body: 'ok', headers: HEADERS };
  return { status: 200, body: `${out}${endpoint} check passed\n`, headers: HEADERS };
}
