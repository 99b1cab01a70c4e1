// Rewrites docs/flags.md from the flag specs (run after adding or changing a flag).
import { writeFileSync } from 'node:fs';
import { flagReference } from './reference.ts';

writeFileSync(new URL('../../../docs/flags.md', import.meta.url), flagReference());
