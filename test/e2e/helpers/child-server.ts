// The lifecycle of a test server run as a child process of an e2e file: its address on the first
// stdout line, then serving until SIGTERM, SIGINT or the end of stdin (the parent exiting).
export function announceAndServe(info: Record<string, unknown>, close: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify(info)}\n`);
  const stop = () => void close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}
