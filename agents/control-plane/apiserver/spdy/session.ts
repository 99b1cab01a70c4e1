// One SPDY/3.1 client session over an upgraded socket: opens streams named by their headers,
// writes and half-closes them, echoes the peer's PINGs, and reports each stream's data and end.
// The kubelet's runtime (moby/spdystream) enforces no flow-control window, so none is kept here.
import type { Duplex } from 'node:stream';
import { ControlType, FLAG_FIN, FrameReader, HeaderWriter, controlStreamId, dataFrames, headerBlock, pingFrame, synStream } from './frames.ts';

export interface SpdyEvents {
  data(streamId: number, data: Buffer): void;
  /** the peer half-closed (FIN) or reset the stream */
  end(streamId: number): void;
  /** the connection ended (GOAWAY, close or error) */
  close(err?: Error): void;
}

export class SpdySession {
  private nextId = 1;
  private readonly reader = new FrameReader();
  private readonly headers = new HeaderWriter();
  private closed = false;

  constructor(
    private readonly socket: Duplex,
    private readonly on: SpdyEvents,
    head: Buffer = Buffer.alloc(0),
  ) {
    socket.on('data', (c: Buffer) => this.receive(c));
    socket.on('error', (e) => this.finish(e));
    socket.on('close', () => this.finish());
    if (head.length) this.receive(head);
  }

  /** Opens a stream carrying these headers; returns its id. */
  open(headers: Record<string, string>): number {
    const id = this.nextId;
    this.nextId += 2;
    this.socket.write(synStream(id, this.headers.compress(headerBlock(headers))));
    return id;
  }

  write(streamId: number, data: Buffer): void {
    if (this.closed || !data.length) return;
    for (const f of dataFrames(streamId, data)) this.socket.write(f);
  }

  /** Half-closes our side of the stream (the remote reads EOF). */
  closeStream(streamId: number): void {
    if (this.closed) return;
    for (const f of dataFrames(streamId, Buffer.alloc(0), true)) this.socket.write(f);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    for (const f of this.reader.push(chunk)) {
      if (!f.control) {
        if (f.data.length) this.on.data(f.streamId, f.data);
        if (f.flags & FLAG_FIN) this.on.end(f.streamId);
        continue;
      }
      switch (f.type) {
        case ControlType.Ping:
          this.socket.write(pingFrame(f.payload));
          break;
        case ControlType.GoAway:
          this.socket.end();
          break;
        case ControlType.RstStream:
          this.on.end(controlStreamId(f));
          break;
        case ControlType.SynReply:
        case ControlType.Headers:
          if (f.flags & FLAG_FIN) this.on.end(controlStreamId(f));
          break;
        default:
          break; // SETTINGS, WINDOW_UPDATE: nothing to do
      }
    }
  }

  private finish(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.on.close(err);
  }
}
