// Duplicate keys in request bodies. JSON.parse and YAML keep the last value silently; upstream's
// decoders notice, and fieldValidation decides: Strict refuses, Warn warns, Ignore says nothing.
import YAML from 'yaml';
import { mediaType } from './body.ts';

/** Keys that repeat within one JSON object, in the order met, as Go's strict decoder names them (pure). */
export function jsonDuplicates(text: string): string[] {
  const out: string[] = [];
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return out;
        }
        if (top.has(key)) out.push(`json: duplicate field "${key}"`);
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') expectKey = stack[stack.length - 1] instanceof Set;
  }
  return out;
}

/** Repeated mapping keys in YAML, with the line upstream's YAML decoder reports (pure). */
export function yamlDuplicates(text: string): string[] {
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  return doc.errors
    .filter((e) => e.code === 'DUPLICATE_KEY')
    .map((e) => {
      // the error points at the repeated key in the source
      const key = /^["']?([^"':\n]*)/.exec(text.slice(e.pos[0]))?.[1].trim() ?? '';
      return `line ${e.linePos?.[0]?.line ?? 0}: key ${JSON.stringify(key)} already set in map`;
    });
}

/** The duplicate-field messages of a JSON or YAML request body ([] for protobuf and the rest). */
export function duplicateFields(buf: Buffer | undefined, contentType: string | undefined, mode?: string): string[] {
  if (mode === 'Ignore') return []; // nobody will hear of them: skip the scan
  const mt = mediaType(contentType) || 'application/json';
  const text = (buf ?? Buffer.alloc(0)).toString('utf8');
  if (mt === 'application/json' || mt.endsWith('+json')) return jsonDuplicates(text);
  if (mt === 'application/yaml' || mt.endsWith('+yaml')) return yamlDuplicates(text);
  return [];
}
