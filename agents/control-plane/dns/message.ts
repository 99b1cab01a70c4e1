// One DNS message in, one out: decode with dns-packet, answer from the index or forward upstream,
// encode, and truncate for UDP (TC set, sections dropped) so that the client retries over TCP.
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { RCODE, resolveQuestion, type Rcode, type Reply } from './answer.ts';
import type { DnsIndex } from './records.ts';

export interface MessageContext {
  index: DnsIndex;
  forward(query: Buffer, tcp: boolean): Promise<Buffer | undefined>;
  tcp: boolean;
}

const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const RA = 0x0080;
const CD = 0x0010;
const OUR_UDP_SIZE = 1232; // the DNS flag day 2020 figure: no IP fragmentation on common paths
const MAX_UDP_SIZE = 4096;

type Opt = Extract<Answer, { type: 'OPT' }>;

const optOf = (p: DecodedPacket): Opt | undefined => (p.additionals ?? []).find((a): a is Opt => a.type === 'OPT');

function ourOpt(): Opt {
  return { name: '.', type: 'OPT', udpPayloadSize: OUR_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
}

/** The largest UDP answer the client takes: 512 without EDNS, else its advertised size within bounds. */
export function udpLimit(q: DecodedPacket): number {
  const opt = optOf(q);
  return opt ? Math.min(Math.max(opt.udpPayloadSize, 512), MAX_UDP_SIZE) : 512;
}

function encodeReply(q: DecodedPacket, r: Reply, tcp: boolean): Buffer {
  const qflags = q.flags ?? 0;
  const flags = (qflags & OPCODE_MASK) | (qflags & (RD | CD)) | RA | (r.authoritative ? AA : 0) | RCODE[r.rcode];
  const opt = optOf(q) ? [ourOpt()] : [];
  const packet: Packet = {
    id: q.id,
    type: 'response',
    flags,
    questions: q.questions,
    answers: r.answers,
    authorities: r.authorities,
    additionals: [...r.additionals, ...opt],
  };
  return tcp ? dnsPacket.encode(packet) : fitUdp(packet, opt, udpLimit(q));
}

/**
 * Fits a UDP answer into the client's limit (dns-packet does not compress names, so answers are
 * larger than a compressing server's). Glue goes first, without TC; then answers are cut and TC
 * set: a client that retries over TCP gets them all, one that cannot (older musl) keeps a usable part.
 */
function fitUdp(packet: Packet, opt: Answer[], limit: number): Buffer {
  if (dnsPacket.encodingLength(packet) <= limit) return dnsPacket.encode(packet);
  const noGlue = { ...packet, additionals: opt };
  if (dnsPacket.encodingLength(noGlue) <= limit) return dnsPacket.encode(noGlue);
  const answers = packet.answers ?? [];
  const cut = { ...noGlue, flags: (packet.flags ?? 0) | TC, authorities: [] };
  let lo = 0;
  let hi = answers.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (dnsPacket.encodingLength({ ...cut, answers: answers.slice(0, mid) }) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return dnsPacket.encode({ ...cut, answers: answers.slice(0, lo) });
}

/** A header-only reply for messages that cannot be parsed or are not plain queries. */
function bare(id: number, qflags: number, rcode: Rcode, q?: DecodedPacket): Buffer {
  const flags = (qflags & OPCODE_MASK) | (qflags & RD) | RA | RCODE[rcode];
  return dnsPacket.encode({ id, type: 'response', flags, questions: q?.questions ?? [] });
}

/** Asks upstream for the target of an ExternalName CNAME and appends what it answers. */
async function chase(ctx: MessageContext, r: Reply): Promise<Reply> {
  if (!r.chase) return r;
  const query = dnsPacket.encode({ id: 0, type: 'query', flags: RD, questions: [{ name: r.chase.name, type: r.chase.type }] });
  const res = await ctx.forward(query, ctx.tcp);
  if (!res) return r;
  try {
    const p = dnsPacket.decode(res);
    if (((p.flags ?? 0) & 0x0f) !== 0) return r;
    return { ...r, answers: [...r.answers, ...(p.answers ?? [])] };
  } catch {
    return r;
  }
}

/** The response to one message, or undefined when it deserves none (a response, or too short to answer). */
export async function handleMessage(buf: Buffer, ctx: MessageContext): Promise<Buffer | undefined> {
  if (buf.length < 12 || buf.readUInt16BE(2) & QR) return undefined;
  const id = buf.readUInt16BE(0);
  const qflags = buf.readUInt16BE(2);
  const query = (qflags & OPCODE_MASK) === 0;
  let q: DecodedPacket;
  try {
    q = dnsPacket.decode(buf);
  } catch {
    return bare(id, qflags, query ? 'FORMERR' : 'NOTIMP');
  }
  // NOTIFY, UPDATE and the rest: this server only answers questions
  if (!query) return bare(id, qflags, 'NOTIMP', q);
  if ((q.questions ?? []).length !== 1) return bare(id, qflags, 'FORMERR', q);
  const res = resolveQuestion(ctx.index, q.questions![0]);
  if (res.forward) {
    const up = await ctx.forward(buf, ctx.tcp);
    return up ?? bare(id, qflags, 'SERVFAIL', q);
  }
  return encodeReply(q, await chase(ctx, res.reply), ctx.tcp);
}
