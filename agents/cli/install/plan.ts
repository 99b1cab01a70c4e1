// What an install writes, as data: every file with its mode and content (text, or a copy of a build
// artifact). Pure: the caller lists the build once (build.ts) and applies the plan (apply.ts).
import { AGENT_KUBECONFIGS, configFile, LAYOUT, roleComponents, unitName } from './layout.ts';
import { CNI_PLUGINS } from '../../../cni-plugins/names.ts';
import { AGENT_COMPONENTS, type AgentComponent } from '../../control-plane/auth/agent-identities.ts';
import { cniWrapper, componentConfig, containerdConfig, MODULES_CONF, SYSCTL_CONF, wrapperScript, type InstallSettings } from './configs.ts';

/** 'install' entries are pruned by a later install; 'join' entries (credentials) only by a later join. */
export type Group = 'install' | 'join';

export type PlanEntry =
  | { group: Group; path: string; mode: number; text: string }
  | { group: Group; path: string; mode: number; copyFrom: string; sha256?: string };

export interface BuildInfo {
  /** holds dist/, node_modules/ and systemd/ */
  sourceDir: string;
  /** files of the suite, relative to sourceDir: dist/..., node_modules/..., systemd/... */
  files: string[];
  /** unit sources by path relative to systemd/, e.g. 'hawser-kubelet.service' -> text */
  units: Record<string, string>;
  /** the node binary the suite will run under */
  nodeBinary: string;
  /** the kubectl `hawser kubectl` runs, when the source has one */
  kubectlBinary?: string;
  /** the target's systemd version when known (decides the restart back-off drop-in) */
  systemdVersion?: number;
  /** sha256 of source files by real path, from a release's SHA256SUMS (so an install need not hash them) */
  sums?: Record<string, string>;
}

/** RestartSteps/RestartMaxDelaySec exist from systemd 254 on. */
export const BACKOFF_MIN_SYSTEMD = 254;
export const BACKOFF_DROPIN = 'hawser-.service.d/10-restart-backoff.conf';
export const CONTAINERD_DROPIN = 'containerd.service.d/10-hawser.conf';

const EXEC = 0o755;
const READ = 0o644;
const SECRET = 0o600;

function unit(b: BuildInfo, rel: string): string {
  const text = b.units[rel];
  if (text === undefined) throw new Error(`the build has no systemd/${rel}`);
  return text;
}

export function installPlan(s: InstallSettings, b: BuildInfo): PlanEntry[] {
  const g = 'install' as const;
  const out: PlanEntry[] = [];
  const text = (path: string, mode: number, t: string) => out.push({ group: g, path, mode, text: t });
  const copy = (path: string, mode: number, from: string) => {
    const sha256 = b.sums?.[from];
    out.push({ group: g, path, mode, copyFrom: from, ...(sha256 ? { sha256 } : {}) });
  };

  // the suite: bundles, runtime modules, unit sources (so a rerun from the installed copy works), node
  for (const f of b.files) {
    const mode = f.startsWith('dist/') && f.endsWith('.cjs') ? EXEC : READ;
    copy(`${LAYOUT.libDir}/${f}`, /\.node$/.test(f) ? EXEC : mode, `${b.sourceDir}/${f}`);
  }
  copy(`${LAYOUT.libDir}/bin/node`, EXEC, b.nodeBinary);
  if (b.kubectlBinary) copy(LAYOUT.kubectl, EXEC, b.kubectlBinary);
  text(LAYOUT.bin, EXEC, wrapperScript());

  const components = roleComponents(s.role, s.separateUnits);
  for (const c of components) {
    text(`${LAYOUT.unitDir}/${unitName(c)}`, READ, unit(b, unitName(c)));
    text(configFile(c), READ, componentConfig(c, s));
  }
  if ((b.systemdVersion ?? 0) >= BACKOFF_MIN_SYSTEMD) text(`${LAYOUT.unitDir}/${BACKOFF_DROPIN}`, READ, unit(b, BACKOFF_DROPIN));

  if (s.role === 'agent') {
    text(`${LAYOUT.unitDir}/${CONTAINERD_DROPIN}`, READ, unit(b, CONTAINERD_DROPIN));
    text(LAYOUT.containerdConfig, READ, containerdConfig(s));
    for (const p of CNI_PLUGINS) {
      if (b.files.includes(`dist/cni/${p}.cjs`)) text(`${LAYOUT.cniBinDir}/${p}`, EXEC, cniWrapper(p));
    }
    text(LAYOUT.sysctl, READ, SYSCTL_CONF);
    text(LAYOUT.modules, READ, MODULES_CONF);
  }
  return out.sort((a, b2) => a.path.localeCompare(b2.path));
}

/** The credentials `hawser join` writes. */
export function joinEntries(o: { caPem: string; kubeconfigs: Record<AgentComponent, string>; nodePassword: string }): PlanEntry[] {
  return [
    { group: 'join', path: LAYOUT.caCert, mode: READ, text: o.caPem },
    ...AGENT_COMPONENTS.map((c): PlanEntry => ({ group: 'join', path: AGENT_KUBECONFIGS[c], mode: SECRET, text: o.kubeconfigs[c] })),
    { group: 'join', path: LAYOUT.nodePassword, mode: SECRET, text: `${o.nodePassword}\n` },
  ];
}

/** Units an install enables, in start order (containerd first on an agent). */
export function roleUnits(s: InstallSettings): string[] {
  return [...(s.role === 'agent' ? ['containerd.service'] : []), ...roleComponents(s.role, s.separateUnits).map(unitName)];
}

/** Units whose inputs changed and that must restart to pick them up. */
export function unitsToRestart(changedPaths: string[], s: InstallSettings): string[] {
  const units = new Set<string>();
  const hawserUnits = roleComponents(s.role, s.separateUnits).map(unitName);
  for (const p of changedPaths) {
    if (
      p.startsWith(`${LAYOUT.libDir}/dist/`) ||
      p.startsWith(`${LAYOUT.libDir}/bin/`) ||
      p.startsWith(`${LAYOUT.libDir}/node_modules/`) ||
      Object.values(AGENT_KUBECONFIGS).includes(p) ||
      p === LAYOUT.caCert
    )
      hawserUnits.forEach((u) => units.add(u));
    if (s.role === 'agent' && (p === LAYOUT.containerdConfig || p.endsWith(CONTAINERD_DROPIN))) units.add('containerd.service');
    for (const c of roleComponents(s.role, s.separateUnits)) {
      if (p === configFile(c) || p === `${LAYOUT.unitDir}/${unitName(c)}`) units.add(unitName(c));
    }
  }
  return roleUnits(s).filter((u) => units.has(u));
}
