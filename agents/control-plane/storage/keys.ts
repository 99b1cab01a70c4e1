// Key-range arithmetic shared by the stores (both order keys bytewise, as etcd does).

/** The smallest string greater than every string starting with prefix ('' = no bound). */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
