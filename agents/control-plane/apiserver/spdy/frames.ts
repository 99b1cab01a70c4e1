// SPDY/3.1 framing, client side, as much as a remote-command or port-forward session toward a
// kubelet needs (the kubelet's runtime speaks SPDY only through moby/spdystream): SYN_STREAM to open
// a stream, DATA (with FIN to half-close), PING echoes, and a reader that splits the byte stream
// into frames. Header blocks must be zlib streams over the SPDY dictionary; ours are written as
// stored (uncompressed) deflate blocks, which every zlib reader accepts and which need no
// dictionary, and the peer's header blocks (SYN_REPLY) are skipped: nothing here depends on them.

export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;

export const enum ControlType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

export type Frame = { control: false; streamId: number; flags: number; data: Buffer } | { control: true; type: number; flags: number; payload: Buffer };

const MAX_LENGTH = 0xffffff;
/** the 2-byte zlib header (deflate, 32 KB window, no preset dictionary id, check bits valid) */
const ZLIB_HEADER = Buffer.from([0x78, 0x01]);

function controlFrame(type: ControlType, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE((((flags & 0xff) << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([h, payload]);
}

/** DATA frames, split so that none exceeds the 24-bit length; FIN goes on the last. */
export function dataFrames(streamId: number, data: Buffer, fin = false): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  do {
    const part = data.subarray(off, off + MAX_LENGTH);
    off += part.length;
    const h = Buffer.alloc(8);
    h.writeUInt32BE(streamId & 0x7fffffff, 0);
    h.writeUInt32BE((((fin && off >= data.length ? FLAG_FIN : 0) << 24) | part.length) >>> 0, 4);
    out.push(Buffer.concat([h, part]));
  } while (off < data.length);
  return out;
}

/** A name/value block (SPDY/3: 32-bit counts and lengths, lowercase names). */
export function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const name = Buffer.from(k.toLowerCase());
    const value = Buffer.from(v);
    parts.push(u32(name.length), name, u32(value.length), value);
  }
  return Buffer.concat(parts);
}

/** an empty stored block: what zlib's sync flush writes, and what makes a reader hand out the block before it */
const SYNC_FLUSH = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/**
 * The header compressor of one session: the whole session's header blocks form one zlib stream,
 * each block a stored deflate block followed by an empty one, as zlib's sync flush ends a block
 * (Go's flate reader returns a block's bytes only once it has read the block after it).
 */
export class HeaderWriter {
  private started = false;

  compress(block: Buffer): Buffer {
    if (block.length > 0xffff) throw new Error(`SPDY header block of ${block.length} bytes`);
    const h = Buffer.alloc(5);
    h[0] = 0; // BFINAL 0, BTYPE 00 (stored), then the byte's padding
    h.writeUInt16LE(block.length, 1);
    h.writeUInt16LE(~block.length & 0xffff, 3);
    const parts = this.started ? [h, block, SYNC_FLUSH] : [ZLIB_HEADER, h, block, SYNC_FLUSH];
    this.started = true;
    return Buffer.concat(parts);
  }
}

export function synStream(streamId: number, headers: Buffer, flags = 0): Buffer {
  const p = Buffer.alloc(10);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(0, 4); // no associated stream
  p.writeUInt16BE(0, 8); // priority 0, slot 0
  return controlFrame(ControlType.SynStream, flags, Buffer.concat([p, headers]));
}

export const pingFrame = (payload: Buffer) => controlFrame(ControlType.Ping, 0, payload);

export function rstStream(streamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(ControlType.RstStream, 0, p);
}

/** Splits a byte stream into frames; push() returns the frames completed by the chunk. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Frame[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4) & MAX_LENGTH;
      if (this.buf.length < 8 + len) break;
      const flags = this.buf[4]!;
      const body = this.buf.subarray(8, 8 + len);
      if (this.buf[0]! & 0x80) out.push({ control: true, type: this.buf.readUInt16BE(2), flags, payload: body });
      else out.push({ control: false, streamId: this.buf.readUInt32BE(0) & 0x7fffffff, flags, data: body });
      this.buf = this.buf.subarray(8 + len);
    }
    return out;
  }
}

/** The stream a control frame is about (SYN_REPLY, RST_STREAM, HEADERS, WINDOW_UPDATE), else 0. */
export function controlStreamId(f: Frame & { control: true }): number {
  switch (f.type) {
    case ControlType.SynReply:
    case ControlType.RstStream:
    case ControlType.Headers:
    case ControlType.WindowUpdate:
      return f.payload.length >= 4 ? f.payload.readUInt32BE(0) & 0x7fffffff : 0;
    default:
      return 0;
  }
}
