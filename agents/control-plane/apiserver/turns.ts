// One time slice per turn of the event loop, shared by every stream the server is sending (watch
// responses now): work that continues through promises never gives other requests a turn, and a
// per-stream slice adds up (500 watches x 10 ms is 5 s without I/O). A stream calls share()
// before each step; once the slice is used up, every stream waits for the next turn, after
// pending I/O. The slice follows the rest of the turn's work (between MIN and MAX), so that
// streams and other requests each get about half of a busy server.

const MIN_SLICE_MS = 5;
const MAX_SLICE_MS = 50;

/** when the current slice ends (0: no slice running) */
let until = 0;
let slice = MIN_SLICE_MS;
/** when the last slice was closed */
let closedAt = 0;

/** Resolves at once within the current slice, else after the event loop has turned. */
export async function share(): Promise<void> {
  const now = performance.now();
  if (until === 0) {
    until = now + slice;
    const started = now;
    setImmediate(() => {
      const end = performance.now();
      // the rest of the turn: what ran between the last slice's end and this slice's start
      const others = closedAt ? started - closedAt : 0;
      slice = Math.min(MAX_SLICE_MS, Math.max(MIN_SLICE_MS, others));
      closedAt = end;
      until = 0;
    });
    return;
  }
  if (now < until) return;
  await new Promise((r) => setImmediate(r));
}
