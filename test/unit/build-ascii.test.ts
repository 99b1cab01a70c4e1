// The bundle is written ASCII-only (release/ascii-only.mjs), so V8 holds it as a one-byte string:
// the escapes must mean what the characters meant, and a tagged template's raw text is left alone.
import test from 'ava';
import vm from 'node:vm';
import { asciiOnly } from '../../release/ascii-only.mjs';

const source = [
  '// a comment with an arrow → and an em dash —',
  'const re = /^(\\d+)(ns|us|µs|ms)$/;',
  "const s = 'Kelvin K, long s ſ';",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is JavaScript source with a template literal
  'const tpl = `15.0→16.0 ${1 + 1} 😀`;',
  'const raw = String.raw`µ→`;',
  "result = [re.exec('3µs')?.[2], s, tpl, raw, re.test('3us')];",
].join('\n');

const run = (code: string): unknown => {
  const ctx: { result?: unknown } = {};
  vm.runInNewContext(code, ctx);
  return ctx.result;
};

test('every non-ASCII character outside a tagged template becomes an escape that means the same', (t) => {
  const out = asciiOnly(source);
  const lines = out.split('\n');
  t.is(lines.length, source.split('\n').length, 'no line added or removed (the source map stays right)');
  for (const [i, line] of lines.entries()) if (i !== 4) t.regex(line, /^[\x00-\x7f]*$/, `line ${i + 1} is ASCII`);
  t.is(lines[4], 'const raw = String.raw`µ→`;', 'the tagged template keeps its raw text');
  t.deepEqual(run(out), run(source));
  t.deepEqual(run(source), ['µs', 'Kelvin K, long s ſ', '15.0→16.0 2 😀', 'µ→', true]);
});

test('ASCII text comes back unchanged', (t) => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is JavaScript source with a template literal
  const ascii = 'const a = /x/g; // plain\nconst b = `t ${a}`;';
  t.is(asciiOnly(ascii), ascii);
});
