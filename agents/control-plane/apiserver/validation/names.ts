// Name and label syntax checks with upstream's messages (apimachinery's validation package):
// each returns a list of problems, empty when the value is fine.

const LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN_FMT = `${LABEL_FMT}(\\.${LABEL_FMT})*`;
const DNS1035_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const QNAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_VALUE_FMT = `(${QNAME_FMT})?`;
const CONFIG_KEY_FMT = '[-._a-zA-Z0-9]+';

const full = (fmt: string) => new RegExp(`^${fmt}$`);
const LABEL_RE = full(LABEL_FMT);
const SUBDOMAIN_RE = full(SUBDOMAIN_FMT);
const DNS1035_RE = full(DNS1035_FMT);
const QNAME_RE = full(QNAME_FMT);
const LABEL_VALUE_RE = full(LABEL_VALUE_FMT);
const CONFIG_KEY_RE = full(CONFIG_KEY_FMT);

function regexMsg(what: string, fmt: string, examples: string[]): string {
  return `${what} (e.g. ${examples.map((e) => `'${e}'`).join(',  or ')}, regex used for validation is '${fmt}')`;
}
const maxLen = (n: number) => `must be no more than ${n} characters`;

export function dns1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!LABEL_RE.test(v))
    errs.push(
      regexMsg(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        LABEL_FMT,
        ['my-name', '123-abc'],
      ),
    );
  return errs;
}

export function dns1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!SUBDOMAIN_RE.test(v))
    errs.push(
      regexMsg(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        SUBDOMAIN_FMT,
        ['example.com'],
      ),
    );
  return errs;
}

export function dns1035Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!DNS1035_RE.test(v))
    errs.push(
      regexMsg(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        DNS1035_FMT,
        ['my-name', 'abc-123'],
      ),
    );
  return errs;
}

/** Names that only need to be usable as a URL path segment. */
export function pathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  for (const bad of ['/', '%']) if (v.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

/** Label and annotation keys: [prefix/]name. */
export function qualifiedName(v: string): string[] {
  const parts = v.split('/');
  let name = v;
  const errs: string[] = [];
  if (parts.length === 2) {
    const [prefix, n] = parts;
    name = n;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
  } else if (parts.length > 2) {
    return [
      regexMsg("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QNAME_FMT, [
        'MyName',
        'my.name',
        '123-abc',
      ]) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else {
    if (name.length > 63) errs.push(`name part ${maxLen(63)}`);
    if (!QNAME_RE.test(name))
      errs.push(
        regexMsg("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", QNAME_FMT, [
          'MyName',
          'my.name',
          '123-abc',
        ]),
      );
  }
  return errs;
}

export function labelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push(maxLen(63));
  if (!LABEL_VALUE_RE.test(v))
    errs.push(
      regexMsg(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        LABEL_VALUE_FMT,
        ['MyValue', 'my_value', '12345'],
      ),
    );
  return errs;
}

export function configMapKey(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLen(253));
  if (!CONFIG_KEY_RE.test(v))
    errs.push(regexMsg("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", CONFIG_KEY_FMT, ['key.name', 'KEY_NAME', 'key-name']));
  if (v === '.' || v === '..') errs.push(`must not be '${v}'`);
  else if (v.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export const NAME_RULES = {
  subdomain: dns1123Subdomain,
  label: dns1123Label,
  label1035: dns1035Label,
  path: pathSegmentName,
} as const;
