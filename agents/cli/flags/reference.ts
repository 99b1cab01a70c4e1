// docs/flags.md, generated from the flag specs: every command's flags with their defaults, whether
// a settings file may hold them, and what they do. `node --import=tsx agents/cli/flags/gen-reference.ts`
// rewrites it; test/unit/cli-flag-spec.test.ts fails when the file and the specs differ.
import { COMPONENT_SPECS } from './components.ts';
import type { Spec } from './spec.ts';

const pipes = (s: string) => s.replace(/\|/g, '\\|');
const prose = (s: string) => pipes(s).replace(/</g, '&lt;');

function table(spec: Spec): string[] {
  const rows = Object.entries(spec).map(([name, f]) => {
    const flag = `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}`;
    const def = !f.arg || f.default === undefined ? '' : f.shown ? pipes(f.shown) : f.default === '' ? '`""`' : `\`${pipes(f.default)}\``;
    return `| \`${pipes(flag)}\` | ${def} | ${f.yaml === false ? 'no' : `\`${name}\``} | ${prose(f.doc)} |`;
  });
  return ['| flag | default | YAML key | what it does |', '| --- | --- | --- | --- |', ...rows];
}

export function flagReference(): string {
  const out = [
    '# hawser flag reference',
    '',
    '<!-- Generated from agents/cli/flags/ by `node --import=tsx agents/cli/flags/gen-reference.ts`; do not edit. -->',
    '',
    'Every flag may also be set in `/etc/hawser/<command>.yaml` (or the file `--config` names) under its',
    'name (or its camelCase form); a flag on the command line wins over the file, the file over the default.',
    'A key the command does not take is refused: `<file>: unknown setting "<key>"`.',
  ];
  for (const [name, spec] of Object.entries(COMPONENT_SPECS)) out.push('', `## hawser ${name}`, '', ...table(spec));
  return `${out.join('\n')}\n`;
}
