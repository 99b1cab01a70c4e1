// One time slice shared by every stream the server is sending (watch responses now): work that
// continues through promises never gives other requests a turn, and a per-stream slice adds up
// (500 watches x 10 ms is 5 s without I/O). A stream calls share() before each step; once the
// slice is used up, every stream waits for the next turn of the event loop, after pending I/O.

/** ms of streaming work before the event loop is handed back */
const SLICE_MS = 5;

let until = 0;

/** Resolves at once within the current slice, else after the event loop has turned. */
export async function share(): Promise<void> {
  const now = performance.now();
  if (until === 0) {
    until = now + SLICE_MS;
    setImmediate(() => (until = 0));
    return;
  }
  if (now < until) return;
  await new Promise((r) => setImmediate(r));
}
