// Links in a proxied answer rewritten to stay behind the proxy (pure), as upstream's proxy
// Transport does: an absolute path on the backend ("/x", or a URL naming the backend's or the
// request's host) becomes "<proxy prefix>/x"; relative links and other hosts are left alone.
// HTML is rewritten in the attributes upstream lists (href, src, action ...), not in text.

const ATTRS = new Set([
  'href',
  'src',
  'action',
  'cite',
  'codebase',
  'background',
  'formaction',
  'icon',
  'longdesc',
  'profile',
  'manifest',
  'usemap',
  'classid',
  'data',
  'poster',
]);

function joinPath(prefix: string, p: string): string {
  const joined = `${prefix.replace(/\/+$/, '')}/${p.replace(/^\/+/, '')}`.replace(/\/{2,}/g, '/');
  return p.endsWith('/') || joined.endsWith('/') ? joined : joined.replace(/\/$/, '');
}

/** One URL: rewritten when it points at the backend by absolute path; untouched otherwise. */
export function rewriteURL(target: string, prefix: string, backendHost: string, requestHost = ''): string {
  let u: URL;
  try {
    u = new URL(target, 'relative://placeholder');
  } catch {
    return target;
  }
  const relativeForm = u.protocol === 'relative:';
  const host = relativeForm ? '' : u.host;
  // URL drops a scheme's default port ("h:80" reads as "h"): compare in the same form
  const same = (h: string) => {
    if (!h) return false;
    try {
      return new URL(`${u.protocol}//${h}`).host === host;
    } catch {
      return false;
    }
  };
  if (host && !same(backendHost) && !same(requestHost)) return target;
  const rawPath = relativeForm ? target.split(/[?#]/)[0] : u.pathname;
  if (!rawPath.startsWith('/') || rawPath.startsWith('//')) return target;
  const tail = `${u.search}${u.hash}`;
  if (rawPath.startsWith(prefix)) return `${rawPath}${tail}`;
  return `${joinPath(prefix, rawPath)}${tail}`;
}

export const rewriteLocation = (location: string, prefix: string, backendHost: string): string => rewriteURL(location, prefix, backendHost);

/** The attributes of every tag whose value is a link back to the backend, under the prefix. */
export function rewriteHtml(html: string, prefix: string, backendHost = ''): string {
  return html.replace(/<[a-zA-Z][^<>]*>/g, (tag) =>
    tag.replace(/(\s)([a-zA-Z-]+)(\s*=\s*)("([^"]*)"|'([^']*)')/g, (m, sp: string, name: string, eq: string, _q: string, dq?: string, sq?: string) => {
      if (!ATTRS.has(name.toLowerCase())) return m;
      const v = dq ?? sq ?? '';
      const out = rewriteURL(v, prefix, backendHost);
      const quote = dq !== undefined ? '"' : "'";
      return `${sp}${name}${eq}${quote}${out}${quote}`;
    }),
  );
}
