// Pure resolution of one question against the record index: an authoritative answer for the
// cluster zone (NOERROR with records, NODATA when the name exists without that type, NXDOMAIN when
// it does not; both negative answers carry the zone's SOA so resolvers can cache them), PTR for
// reverse names the index knows, and "forward" for everything else.
import type { Answer, Question, RecordType } from 'dns-packet';
import { isReverseName, isUnder, normalName } from './names.ts';
import type { DnsIndex, Rr } from './records.ts';

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';
export const RCODE: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export interface Reply {
  rcode: Rcode;
  authoritative: boolean;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** an in-zone CNAME (ExternalName) points outside the zone: the server asks upstream for this and appends it */
  chase?: { name: string; type: RecordType };
}

export type Resolution = { forward: true } | { forward: false; reply: Reply };

const MAX_CNAME_HOPS = 8;

const empty = (rcode: Rcode, authoritative = false): Reply => ({ rcode, authoritative, answers: [], authorities: [], additionals: [] });

function toAnswer(owner: string, rr: Rr, ttl: number): Answer {
  return { name: owner, type: rr.type, class: 'IN', ttl, data: rr.data } as Answer;
}

function soaAuthority(ix: DnsIndex): Answer[] {
  return [{ name: ix.zone, type: 'SOA', class: 'IN', ttl: ix.ttl, data: ix.soa }];
}

/** A/AAAA of the names an answer points at (SRV targets, the NS host), for the additional section. */
function glue(ix: DnsIndex, answers: Answer[]): Answer[] {
  const out: Answer[] = [];
  const done = new Set<string>();
  for (const a of answers) {
    const target = a.type === 'SRV' ? a.data.target : a.type === 'NS' ? a.data : undefined;
    if (!target || done.has(target)) continue;
    done.add(target);
    for (const rr of ix.records.get(normalName(target)) ?? []) {
      if (rr.type === 'A' || rr.type === 'AAAA') out.push(toAnswer(target, rr, ix.ttl));
    }
  }
  return out;
}

/** A question's type: dns-packet decodes ANY (255) by name, which its RecordType leaves out. */
type QType = RecordType | 'ANY';

function resolveInZone(ix: DnsIndex, qname: string, qtype: QType): Reply {
  const answers: Answer[] = [];
  let name = normalName(qname);
  let owner = qname.replace(/\.$/, '');
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    const rrs = ix.records.get(name) ?? [];
    const cname = rrs.find((r) => r.type === 'CNAME');
    if (cname && qtype !== 'CNAME' && qtype !== 'ANY') {
      answers.push(toAnswer(owner, cname, ix.ttl));
      const target = cname.data as string;
      if (!isUnder(target, ix.zone)) return { ...empty('NOERROR', true), answers, chase: { name: target, type: qtype } };
      name = owner = target;
      continue;
    }
    const hits = qtype === 'ANY' ? rrs : rrs.filter((r) => r.type === qtype);
    if (hits.length) {
      answers.push(...hits.map((r) => toAnswer(owner, r, ix.ttl)));
      return { ...empty('NOERROR', true), answers, additionals: glue(ix, answers) };
    }
    // RFC 2308: NODATA when the name exists (with other types, or as an empty non-terminal)
    const rcode: Rcode = ix.names.has(name) ? 'NOERROR' : 'NXDOMAIN';
    return { ...empty(rcode, true), answers, authorities: soaAuthority(ix) };
  }
  return empty('SERVFAIL');
}

export function resolveQuestion(ix: DnsIndex, q: Question): Resolution {
  const qname = normalName(q.name);
  const qtype = String(q.type);
  if (!isUnder(qname, ix.zone)) {
    // reverse lookups of cluster addresses are ours; any other reverse name falls through upstream
    if (isReverseName(qname) && (qtype === 'PTR' || qtype === 'ANY')) {
      const ptrs = (ix.records.get(qname) ?? []).filter((r) => r.type === 'PTR');
      if (ptrs.length) return { forward: false, reply: { ...empty('NOERROR', true), answers: ptrs.map((r) => toAnswer(q.name, r, ix.ttl)) } };
    }
    return { forward: true };
  }
  const qclass = q.class ?? 'IN';
  if (qclass !== 'IN' && qclass !== 'ANY') return { forward: false, reply: empty('REFUSED') };
  // before the first list the index knows nothing: a temporary failure, not a cached NXDOMAIN
  if (!ix.synced) return { forward: false, reply: empty('SERVFAIL') };
  return { forward: false, reply: resolveInZone(ix, q.name, q.type) };
}
