// `hawser install` and `hawser uninstall`: the suite from the project's own build, configs, units,
// containerd's config and CNI plugins, Debian packages through apt, and units enabled and started
// where systemd runs. A rerun with the same settings changes nothing and says so.
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { applyPlan, readManifest, removeDirs, removeFile, under, writeManifest, type Change, type Manifest } from './apply.ts';
import { openSource, readBuild, sourceOfBundle } from './build.ts';
import { DEFAULT_SETTINGS, type InstallSettings } from './configs.ts';
import { aptInstall, aptRemove, applyKernelSettings, hostCgroupDriver, systemctl, systemdIsInit } from './host.ts';
import { AGENT_RUNTIME_DIRS, LAYOUT, rolePackages, type Role } from './layout.ts';
import { CONTAINERD_DROPIN, installPlan, roleUnits, unitsToRestart, type Group, type PlanEntry } from './plan.ts';
import { removeAgentState } from './teardown.ts';

export interface InstallOptions {
  role: Role;
  /** prefix of every path written; '/' (default) is the real host */
  root?: string;
  /** the build to install from: a dir holding dist/, or a release tarball; default: the running bundle's */
  source?: string;
  /** settings given on the command line; the rest come from the previous install, then defaults */
  settings?: Partial<InstallSettings>;
  nodeBinary?: string;
  systemdVersion?: number;
}

export interface InstallReport {
  changes: Change[];
  unchanged: number;
  notes: string[];
  manifestChanged: boolean;
}

export const reportChanged = (r: InstallReport): boolean => r.changes.length > 0 || r.manifestChanged;

export function formatReport(cmd: string, r: InstallReport): string {
  const lines = r.changes.map((c) => `  ${c.action.padEnd(13)} ${c.path}`);
  lines.push(
    reportChanged(r) ? `${cmd}: ${r.changes.length} change(s), ${r.unchanged} file(s) unchanged` : `${cmd}: unchanged (${r.unchanged} files already as wanted)`,
  );
  return [...lines, ...r.notes.map((n) => `note: ${n}`)].join('\n');
}

function mergeSettings(role: Role, old: Manifest | undefined, given: Partial<InstallSettings>, onHost: boolean): InstallSettings {
  const kept = old && old.settings.role === role ? old.settings : undefined;
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<InstallSettings>;
  const s: InstallSettings = { ...DEFAULT_SETTINGS, ...kept, ...defined, role };
  if (role === 'agent' && !s.nodeName) s.nodeName = os.hostname().toLowerCase();
  if (role === 'agent' && !s.cgroupDriver && onHost) s.cgroupDriver = hostCgroupDriver();
  // sorted keys: the manifest's bytes depend on the settings, not on the order flags came in
  return Object.fromEntries(Object.entries(s).sort(([a], [b]) => a.localeCompare(b))) as unknown as InstallSettings;
}

/** The whole install; `extra` lets join add its credentials to the same run and manifest. */
export async function install(o: InstallOptions, extra: { entries?: PlanEntry[]; groups?: Group[] } = {}): Promise<InstallReport> {
  const source = o.source ?? sourceOfBundle();
  if (!source) throw new Error('cannot tell where the build is: pass --from <release tarball, or dir holding dist/hawser.cjs>');
  const opened = openSource(source);
  try {
    return await installFrom(o, opened.dir, extra);
  } finally {
    opened.done();
  }
}

async function installFrom(o: InstallOptions, source: string, extra: { entries?: PlanEntry[]; groups?: Group[] }): Promise<InstallReport> {
  const root = resolve(o.root ?? '/');
  const onHost = root === '/';
  const notes: string[] = [];
  const old = readManifest(root);
  const settings = mergeSettings(o.role, old, o.settings ?? {}, onHost);
  const build = readBuild(source, { nodeBinary: o.nodeBinary, systemdVersion: o.systemdVersion });

  const planned = rolePackages(o.role, settings.proxyMode);
  let installedPkgs = old?.packages.installed ?? [];
  if (onHost) installedPkgs = [...new Set([...installedPkgs, ...aptInstall(planned)])].sort();
  else if (planned.length) notes.push(`--root: would apt-get install ${planned.join(' ')} (recorded in the manifest, apt not run)`);

  const units = roleUnits(settings);
  const systemd = onHost && systemdIsInit();
  const dropped = (old?.units ?? []).filter((u) => !units.includes(u) && u !== 'containerd.service');
  if (systemd && dropped.length) systemctl('disable', '--now', ...dropped);

  const entries = [...installPlan(settings, build), ...(extra.entries ?? [])];
  const applied = applyPlan(root, entries, old, extra.groups ?? ['install']);
  // recorded at the first install only: a rerun would find the agents' own dirs
  const absent = old ? (old.runtimeDirsAbsent ?? []) : o.role === 'agent' ? AGENT_RUNTIME_DIRS.filter((d) => !existsSync(under(root, d))) : [];
  const manifest: Manifest = {
    version: 1,
    settings,
    files: applied.files,
    dirs: applied.dirs,
    packages: { installed: installedPkgs, planned: [...planned].sort() },
    units,
    ...(absent.length ? { runtimeDirsAbsent: absent } : {}),
  };
  const manifestChanged = writeManifest(root, manifest);

  const changedPaths = applied.changes.map((c) => c.path);
  if (onHost && o.role === 'agent' && changedPaths.some((p) => p === LAYOUT.sysctl || p === LAYOUT.modules)) {
    notes.push(...applyKernelSettings(LAYOUT.sysctl, ['br_netfilter', 'overlay', 'vxlan']));
  }
  if (systemd) {
    if (changedPaths.some((p) => p.startsWith(`${LAYOUT.unitDir}/`))) systemctl('daemon-reload');
    systemctl('enable', ...units);
    const restart = unitsToRestart(changedPaths, settings);
    if (restart.length) systemctl('try-restart', ...restart);
    // start is a no-op for running units and for those whose ConditionPathExists is not met yet
    systemctl('start', ...units);
  } else if (onHost) {
    notes.push(`systemd is not PID 1 on this host: units written but not enabled or started (${units.join(' ')})`);
  } else {
    notes.push(`--root: units written under ${root}, not enabled or started`);
  }
  return { changes: applied.changes, unchanged: applied.unchanged, notes, manifestChanged };
}

export interface UninstallOptions {
  root?: string;
  purge?: boolean;
}

/** Removes everything the manifest lists (restoring replaced files); --purge also removes hawser's state. */
export async function uninstall(o: UninstallOptions): Promise<{ changes: Change[]; notes: string[] }> {
  const root = resolve(o.root ?? '/');
  const onHost = root === '/';
  const m = readManifest(root);
  const notes: string[] = [];
  if (!m) return { changes: [], notes: ['nothing to remove: no install manifest found'] };
  const systemd = onHost && systemdIsInit();
  const ours = m.units.filter((u) => u !== 'containerd.service');
  if (systemd && ours.length) systemctl('disable', '--now', ...ours);
  // pods and kernel state while the CNI plugins are still there to release what they made
  if (onHost && m.settings.role === 'agent') notes.push(...(await removeAgentState({ criSocket: LAYOUT.criSocket, kubeletDir: LAYOUT.kubeletDir })));
  else if (m.settings.role === 'agent') notes.push('--root: pods, mounts and kernel state of a running agent are left to the host');
  const changes = m.files.flatMap((f) => removeFile(root, f));
  rmSync(under(root, LAYOUT.manifest), { force: true });
  if (o.purge) {
    for (const p of [
      LAYOUT.stateDir,
      LAYOUT.etcDir,
      `${LAYOUT.cniConfDir}/10-hawser.conflist`,
      '/var/lib/cni/networks/hawser',
      ...(m.runtimeDirsAbsent ?? []),
    ]) {
      rmSync(under(root, p), { recursive: true, force: true });
    }
  }
  removeDirs(root, m.dirs);
  if (systemd) {
    systemctl('daemon-reload');
    if (m.files.some((f) => f.path.endsWith(CONTAINERD_DROPIN)) && !m.packages.installed.includes('containerd')) {
      systemctl('try-restart', 'containerd.service'); // back to its own config
    }
  }
  if (onHost) aptRemove(m.packages.installed);
  else if (m.packages.installed.length) notes.push(`--root: would apt-get remove ${m.packages.installed.join(' ')}`);
  return { changes, notes };
}
