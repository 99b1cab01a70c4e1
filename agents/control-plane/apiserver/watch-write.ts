// Writes a watch response: frames that are ready at once (a watch's initial state) go out
// together, in pieces of about 16 KB, instead of one chunk and one TLS record each; a piece waits
// for the socket to drain (a slow reader stops the stream, and its watch cache queue fills up
// until the watcher is closed), and a lone event goes out within one turn of the event loop.
import type { ServerResponse } from 'node:http';
import { frameText } from './stored-frame.ts';
import { share } from './turns.ts';

/** about this many characters of frames per write */
const PIECE = 16 * 1024;

/** Resolves when the response can take more (or is gone), leaving no listener behind. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function writeWatch(res: ServerResponse, frames: AsyncIterable<unknown>): Promise<void> {
  const it = frames[Symbol.asyncIterator]();
  let piece = '';
  let pending: Promise<IteratorResult<unknown>> | undefined;
  let turn: Promise<'turn'> | undefined;
  const flush = async () => {
    const ok = res.write(piece);
    piece = '';
    turn = undefined;
    if (!ok && !res.destroyed) await drained(res);
  };
  try {
    while (!res.destroyed) {
      if (!pending) {
        await share();
        pending = it.next();
      }
      // with something to send, wait for the next frame only until the event loop turns
      turn ??= piece ? new Promise((r) => setImmediate(() => r('turn'))) : undefined;
      const r = turn ? await Promise.race([pending, turn]) : await pending;
      if (r === 'turn') {
        await flush();
        continue;
      }
      pending = undefined;
      if (r.done) break;
      piece += `${frameText(r.value)}\n`;
      if (piece.length >= PIECE) await flush();
    }
    if (piece && !res.destroyed) res.write(piece);
  } finally {
    // a next() still pending ends once the request's abort signal ends the watch
    if (pending) void it.return?.(undefined);
    else await it.return?.(undefined);
    if (!res.destroyed) res.end();
  }
}
