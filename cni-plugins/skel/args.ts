// CNI_ARGS ("K1=V1;K2=V2") parsing with the reference's rules: malformed pairs are an error, and
// unknown keys are an error unless IgnoreUnknown is true.

export function parseCniArgs(raw: string | undefined, known: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  const unknown: string[] = [];
  let ignoreUnknown = false;
  for (const pair of raw.split(';')) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw new Error(`ARGS: invalid pair "${pair}"`);
    const [k, v] = kv;
    if (k === 'IgnoreUnknown') {
      const b = v.toLowerCase();
      if (b !== '1' && b !== 'true' && b !== '0' && b !== 'false') {
        throw new Error(`ARGS: error parsing value of pair "${pair}": boolean unmarshal error: invalid input ${v}`);
      }
      ignoreUnknown = b === '1' || b === 'true';
    } else if (known.includes(k)) {
      out[k] = v;
    } else {
      unknown.push(pair);
    }
  }
  if (unknown.length && !ignoreUnknown) throw new Error(`ARGS: unknown args [${unknown.map((u) => JSON.stringify(u)).join(' ')}]`);
  return out;
}
