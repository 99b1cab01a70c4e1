// A bundle as V8 reads it fastest: esbuild escapes non-ASCII in strings but not in comments,
// regular expressions or template literals, and one character past Latin-1 (an arrow in a
// dependency's comment) makes V8 hold the whole 6.8 MB bundle as a two-byte string. Reading and
// compiling it then took about 35 ms more of the 0.5 s every hawser process spends starting
// (read 39 -> 53 ms, compile 132 -> 149 ms, measured on this 2-core host under load).
// A \u escape means the same in all three places, except in a tagged template, whose tag sees the
// raw text: a line with one is left alone. The source map stays right: an escape only lengthens
// its own line, and maps point at line starts and earlier columns.

/** `text` with every non-ASCII UTF-16 unit written as a \u escape, outside tagged-template lines. */
export function asciiOnly(text) {
  // one UTF-16 unit at a time: a surrogate pair written as two escapes means the same pair
  const escape = (u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`;
  return text
    .split('\n')
    .map((line) => (/[^\x00-\x7f]/.test(line) && !/[\w$)\]]\s*`/.test(line) ? line.replace(/[^\x00-\x7f]/g, escape) : line))
    .join('\n');
}
