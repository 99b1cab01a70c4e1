// A subPath inside a volume, walked one name at a time from the volume's real root: every existing
// name is resolved (symlinks included) and must stay inside the volume before the walk goes on,
// and a missing directory is made only under a parent already known to be inside, with the
// volume root's mode (setgid and sticky too), as upstream's SafeMakeDir does; so a symlink a
// container planted can neither lead the mount out of the volume nor have the kubelet create
// directories outside it on the way to refusing it.
import { chmodSync, lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { checkRelative, VolumeError } from './payload.ts';

const inside = (base: string, real: string) => {
  const rel = relative(base, real);
  return rel === '' || !(rel === '..' || rel.startsWith('../') || isAbsolute(rel));
};

/**
 * The real host path of `sub` under the volume at `volumePath` (named `volume` in errors); missing
 * directories are created when `create`, else a missing path is an error (read-only API volumes).
 */
export function resolveSubPath(volumePath: string, sub: string, volume: string, create: boolean): string {
  checkRelative(sub);
  const base = realpathSync(volumePath);
  const mode = statSync(base).mode & 0o7777;
  let cur = base;
  for (const name of sub.split('/').filter((s) => s && s !== '.')) {
    const next = join(cur, name);
    let exists = true;
    try {
      lstatSync(next);
    } catch {
      exists = false;
    }
    if (!exists) {
      if (!create) throw new VolumeError(`subPath ${JSON.stringify(sub)} does not exist in volume ${JSON.stringify(volume)}`);
      mkdirSync(next);
      chmodSync(next, mode); // mkdir is subject to the umask and never sets the sticky bit
      cur = next;
      continue;
    }
    const real = realpathSync(next);
    if (!inside(base, real)) throw new VolumeError(`subpath ${JSON.stringify(real)} not within volume path ${JSON.stringify(base)}`);
    cur = real;
  }
  return cur;
}
