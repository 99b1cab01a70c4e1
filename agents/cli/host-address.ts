// The host address other machines most likely reach: the source address of the default route.
import { execFileSync } from 'node:child_process';

export function defaultHostAddress(): string {
  const rows = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' })) as { prefsrc?: string }[];
  return rows[0]?.prefsrc ?? '127.0.0.1';
}
