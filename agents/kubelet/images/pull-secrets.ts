// imagePullSecrets to CRI AuthConfig: the credentials of kubernetes.io/dockerconfigjson and
// kubernetes.io/dockercfg secrets whose registry key matches the image, most specific first, as
// upstream's docker keyring matches them (host with `*` wildcards per label, port, path prefix;
// docker.io also answers to index.docker.io). Pure.
import type { V1Secret } from '@kubernetes/client-node';

export interface Auth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

interface Entry {
  key: string;
  host: string;
  port: string;
  path: string;
  auth: Auth;
}

const DOCKER_HUB = 'docker.io';

/** registry host[:port] and repository path of an image reference (docker's normalisation). */
export function splitImage(image: string): { host: string; path: string } {
  const noDigest = image.split('@')[0];
  const slash = noDigest.indexOf('/');
  const first = slash < 0 ? '' : noDigest.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const rest = isHost ? noDigest.slice(slash + 1) : noDigest;
  const repo = rest.replace(/:[^/:]*$/, '');
  const host = isHost ? first : DOCKER_HUB;
  return { host: host === 'index.docker.io' ? DOCKER_HUB : host, path: !isHost && !repo.includes('/') ? `library/${repo}` : repo };
}

function parseKey(key: string): { host: string; port: string; path: string } {
  const u = new URL(/^[a-z]+:\/\//i.test(key) ? key : `https://${key}`);
  let host = u.hostname;
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = DOCKER_HUB;
  // docker hub's legacy key https://index.docker.io/v1/ carries an API path, not a repository
  const path = host === DOCKER_HUB ? '' : u.pathname.replace(/^\/+|\/+$/g, '');
  return { host, port: u.port, path };
}

function decodeAuth(a: Record<string, string>): Auth {
  const out: Auth = {
    username: a.username,
    password: a.password,
    auth: a.auth,
    identityToken: a.identitytoken ?? a.identityToken,
    registryToken: a.registrytoken ?? a.registryToken,
  };
  if ((!out.username || !out.password) && a.auth) {
    const plain = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i > 0) {
      out.username = plain.slice(0, i);
      out.password = plain.slice(i + 1);
    }
  }
  return out;
}

export function secretEntries(s: V1Secret): Entry[] {
  const raw = (k: string) => (s.data?.[k] ? Buffer.from(s.data[k], 'base64').toString('utf8') : undefined);
  let auths: Record<string, Record<string, string>> = {};
  try {
    if (s.type === 'kubernetes.io/dockerconfigjson' && raw('.dockerconfigjson')) auths = JSON.parse(raw('.dockerconfigjson')!).auths ?? {};
    else if (s.type === 'kubernetes.io/dockercfg' && raw('.dockercfg')) auths = JSON.parse(raw('.dockercfg')!);
  } catch {
    return [];
  }
  return Object.entries(auths).flatMap(([key, a]) => {
    try {
      const p = parseKey(key);
      // containerd matches the URL's host against the registry host it is about to contact
      return [{ key, ...p, auth: { ...decodeAuth(a ?? {}), serverAddress: `https://${p.port ? `${p.host}:${p.port}` : p.host}` } }];
    } catch {
      return [];
    }
  });
}

function hostMatches(pattern: string, host: string): boolean {
  const a = pattern.split('.');
  const b = host.split('.');
  if (a.length !== b.length) return false;
  return a.every(
    (label, i) =>
      label === '*' ||
      label === b[i] ||
      (label.includes('*') &&
        new RegExp(
          `^${label
            .split('*')
            .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('[^.]*')}$`,
        ).test(b[i])),
  );
}

/** Credentials to try for `image`, the most specific registry key first. */
export function credentialsFor(image: string, secrets: V1Secret[]): Auth[] {
  const { host: imgHostPort, path } = splitImage(image);
  const [imgHost, imgPort = ''] = imgHostPort.split(':');
  const matches = secrets
    .flatMap(secretEntries)
    .filter((e) => hostMatches(e.host, imgHost) && e.port === imgPort && (!e.path || path === e.path || path.startsWith(`${e.path}/`)));
  matches.sort((x, y) => y.path.length - x.path.length || Number(x.host.includes('*')) - Number(y.host.includes('*')));
  return matches.map((e) => e.auth);
}
