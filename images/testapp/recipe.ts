// testapp:1.0: Debian's busybox-static with all its applets linked in /bin (sh, wget, nc, ...),
// serving HTTP on 8080 with busybox httpd: GET / answers the pod's hostname (www/cgi-bin/index.cgi);
// -vv logs each request (url, response code) to stderr, so the container log shows traffic.
// /bin/porter (porter*.c, static with OpenSSL) answers HTTP and HTTPS as agnhost `porter` does, and
// serves agnhost `webhook`'s admission paths and a minimal aggregated API over TLS.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listTree, sha256 } from '../oci.ts';
import type { ImageRecipe } from '../recipe.ts';

const BUSYBOX = '/bin/busybox';
const rootfs = fileURLToPath(new URL('rootfs', import.meta.url));
// porter.c serves; porter-json.c, porter-webhook.c and porter-apiservice.c answer its API modes
const PORTER_FILES = ['porter.h', 'porter.c', 'porter-json.c', 'porter-webhook.c', 'porter-apiservice.c'];
const porterFiles = PORTER_FILES.map((f) => fileURLToPath(new URL(f, import.meta.url)));
const porterSources = porterFiles.filter((f) => f.endsWith('.c'));
// static: the image has no libc; gc-sections drops the unused parts of libcrypto
const CFLAGS = ['-static', '-Os', '-s', '-Wall', '-Wextra', '-ffunction-sections', '-fdata-sections', '-Wl,--gc-sections'];
const LIBS = ['-lssl', '-lcrypto'];

/** the libssl-dev whose static libraries porter links, so a new OpenSSL rebuilds the image */
const opensslVersion = (): string => execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libssl-dev'], { encoding: 'utf8' }).trim();

/**
 * Compiles porter to `out` as the image ships it. glibc's static link warns about getaddrinfo/dlopen
 * in libcrypto (porter never resolves names): stderr is kept for the error a failed compile throws,
 * and dropped on success.
 */
export function compilePorter(out: string): void {
  execFileSync('gcc', [...CFLAGS, '-o', out, ...porterSources, ...LIBS], { stdio: ['ignore', 'pipe', 'pipe'] });
  chmodSync(out, 0o755);
}

const applets = (): string[] =>
  execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && !s.includes('/'))
    .sort();

export const testapp: ImageRecipe = {
  name: 'testapp',
  tag: '1.0',
  config: {
    Env: ['PATH=/bin'],
    Cmd: ['/bin/httpd', '-f', '-vv', '-p', '8080', '-h', '/www'],
    WorkingDir: '/',
    ExposedPorts: { '8080/tcp': {} },
  },
  inputs: () => [
    sha256(readFileSync(BUSYBOX)),
    applets().join(' '),
    ...porterFiles.map((f) => readFileSync(f, 'utf8')),
    execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!,
    [...CFLAGS, ...LIBS].join(' '),
    `libssl-dev ${opensslVersion()}`,
    ...listTree(rootfs).map((p) => {
      const path = join(rootfs, p);
      return `${p}:${statSync(path).isDirectory() ? 'dir' : sha256(readFileSync(path))}`;
    }),
  ],
  stage(dir) {
    for (const d of ['bin', 'etc', 'tmp', 'root', 'www', 'www/cgi-bin']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
    chmodSync(join(dir, 'bin/busybox'), 0o755);
    for (const a of applets()) symlinkSync('busybox', join(dir, 'bin', a));
    compilePorter(join(dir, 'bin/porter'));
    for (const rel of listTree(rootfs)) {
      const from = join(rootfs, rel);
      const to = join(dir, rel);
      if (statSync(from).isDirectory()) {
        mkdirSync(to, { recursive: true });
        continue;
      }
      copyFileSync(from, to);
      // CGI scripts must be executable for httpd; everything else is plain data
      chmodSync(to, rel.startsWith('www/cgi-bin/') ? 0o755 : 0o644);
    }
    for (const d of ['bin', 'etc', 'www', 'www/cgi-bin']) chmodSync(join(dir, d), 0o755);
    chmodSync(join(dir, 'root'), 0o700);
    chmodSync(join(dir, 'tmp'), 0o1777);
  },
};
