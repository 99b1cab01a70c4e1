// Which snapshotter works on this host: overlayfs when the kernel can mount an overlay whose upper
// dir sits on the filesystem of containerd's root (not true on some nested or tmpfs setups), else native.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export function detectSnapshotter(underDir: string): 'overlayfs' | 'native' {
  mkdirSync(underDir, { recursive: true });
  const dir = mkdtempSync(join(underDir, '.overlay-probe-'));
  const [lower, upper, work, merged] = ['l', 'u', 'w', 'm'].map((n) => join(dir, n));
  try {
    for (const d of [lower, upper, work, merged]) mkdirSync(d!);
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged!], { stdio: 'ignore' });
    execFileSync('umount', [merged!], { stdio: 'ignore' });
    return 'overlayfs';
  } catch {
    return 'native';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
