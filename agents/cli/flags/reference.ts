// docs/flags.md, generated from the flag specs: every command's flags with their defaults, whether
// a settings file may hold them, and what they do. `node --import=tsx agents/cli/flags/gen-reference.ts`
// rewrites it; test/unit/cli-flag-spec.test.ts fails when the file and the specs differ.
import { COMPONENT_SPECS } from './components.ts';
import { camel, type Spec } from './spec.ts';
import { UPSTREAM_KINDS } from './upstream.ts';

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
  out.push(
    '',
    '## Upstream config files',
    '',
    "`--config` may instead name one of upstream's component config files (detected by apiVersion and kind).",
    'The fields below map onto the flags; a field left at its zero value (`""`, `0s`, null, as kubeadm',
    "writes unset ones) keeps hawser's default. Every other field set to something else is ignored: the",
    'command logs their paths at start (`read <Kind>: ignoring fields hawser does not implement: ...`).',
    'A flag on the command line still wins over the file.',
  );
  for (const k of UPSTREAM_KINDS) {
    out.push('', `### ${k.apiVersion} ${k.kind} (\`hawser ${k.command} --config\`)`, '', '| field | flag |', '| --- | --- |');
    const flagOf = (setting: string) =>
      Object.keys(COMPONENT_SPECS.agent)
        .concat(Object.keys(COMPONENT_SPECS['kube-proxy']))
        .find((n) => camel(n) === setting);
    for (const [field, m] of Object.entries(k.fields)) {
      const where = k.kind === 'KubeProxyConfiguration' && ['syncPeriod', 'minSyncPeriod', 'masqueradeAll'].includes(field) ? `<mode>.${field}` : field;
      out.push(`| \`${where}\` | \`--${flagOf(m.setting) ?? m.setting}\` |`);
    }
  }
  return `${out.join('\n')}\n`;
}
