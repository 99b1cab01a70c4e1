// A one-question DNS client over UDP or TCP (for probes, tests and the benchmark), built on the
// same bounded exchanges the forwarder uses.
import { randomInt } from 'node:crypto';
import dnsPacket, { type DecodedPacket, type RecordType } from 'dns-packet';
import { tcpExchange, udpExchange, type Upstream } from './upstream.ts';

export interface QueryOptions {
  tcp?: boolean;
  timeoutMs?: number;
  ednsSize?: number;
}

export type DnsResponse = DecodedPacket & { rcode: string };

/** Asks one question; undefined when no answer came within the timeout. */
export async function dnsQuery(server: Upstream, name: string, type: RecordType | 'ANY', o: QueryOptions = {}): Promise<DnsResponse | undefined> {
  const id = randomInt(0, 65536);
  const msg = dnsPacket.encode({
    id,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as RecordType }],
    additionals: o.ednsSize
      ? [{ type: 'OPT', name: '.', udpPayloadSize: o.ednsSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
      : [],
  });
  const res = await (o.tcp ? tcpExchange : udpExchange)(server, msg, id, o.timeoutMs ?? 2000);
  return res ? (dnsPacket.decode(res) as DnsResponse) : undefined;
}

/** The data of the answers of one type (A/AAAA/PTR/CNAME strings, SRV objects). */
export function answerData<T = string>(res: DecodedPacket | undefined, type: string): T[] {
  return (res?.answers ?? []).filter((a) => a.type === type).map((a) => (a as { data: unknown }).data as T);
}
