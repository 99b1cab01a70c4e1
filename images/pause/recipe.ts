// pause:3.10: one static binary, /pause, compiled here from pause.c.
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageRecipe } from '../recipe.ts';

const source = fileURLToPath(new URL('pause.c', import.meta.url));
const CFLAGS = ['-static', '-Os', '-s', '-Wall'];

export const pause: ImageRecipe = {
  name: 'pause',
  tag: '3.10',
  config: { Entrypoint: ['/pause'], User: '65535:65535' },
  inputs: () => [readFileSync(source, 'utf8'), execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!, CFLAGS.join(' ')],
  stage(dir) {
    execFileSync('gcc', [...CFLAGS, '-o', join(dir, 'pause'), source], { stdio: ['ignore', 'inherit', 'inherit'] });
    chmodSync(join(dir, 'pause'), 0o755);
  },
};
