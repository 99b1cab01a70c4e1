// The Prometheus text exposition (format 0.0.4) as client_golang writes it for the kubelet's
// /metrics/resource and /metrics/cadvisor: families sorted by name, each sample's labels sorted by
// name, samples sorted by their label values, floats as Go's strconv 'g' -1, an optional timestamp
// in milliseconds. Pure.

export type Labels = [string, string][];
export interface Sample {
  labels: Labels;
  value: number;
  ms?: number;
}
export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

/** A float as Go's strconv.FormatFloat(f, 'g', -1, 64) writes it (what client_golang's text format uses). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return '0';
  const [mant, e] = n.toExponential().split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

export const family = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const byName = (a: [string, string], b: [string, string]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The text of the families that have samples. */
export function renderFamilies(families: Family[]): string {
  const sorted = (labels: Labels) => [...labels].sort(byName);
  const key = (labels: Labels) =>
    sorted(labels)
      .map(([, v]) => v)
      .join('\u0000');
  let out = '';
  for (const fam of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!fam.samples.length) continue;
    out += `# HELP ${fam.name} ${fam.help}\n# TYPE ${fam.name} ${fam.type}\n`;
    for (const s of [...fam.samples].sort((a, b) => (key(a.labels) < key(b.labels) ? -1 : key(a.labels) > key(b.labels) ? 1 : 0))) {
      const labels = s.labels.length
        ? `{${sorted(s.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(',')}}`
        : '';
      out += `${fam.name}${labels} ${goFloat(s.value)}${s.ms !== undefined && Number.isFinite(s.ms) ? ` ${s.ms}` : ''}\n`;
    }
  }
  return out;
}
