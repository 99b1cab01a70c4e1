// resolv.conf -> CNI DNS block (nameserver, domain, search, options), as host-local's resolvConf option.
import type { DNS } from '../skel/result.ts';

export function parseResolvConf(text: string): DNS {
  const dns: DNS = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const f = line.split(/\s+/);
    if (f.length < 2) continue;
    switch (f[0]) {
      case 'nameserver':
        (dns.nameservers ??= []).push(f[1]);
        break;
      case 'domain':
        dns.domain = f[1];
        break;
      case 'search':
        (dns.search ??= []).push(...f.slice(1));
        break;
      case 'options':
        (dns.options ??= []).push(...f.slice(1));
        break;
    }
  }
  return dns;
}
