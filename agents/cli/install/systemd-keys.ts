// The systemd version that introduced each unit-file key hawser's units use. `systemd-analyze
// verify` on this host proves the units against one systemd only (Debian 12's 252); the oldest
// distribution hawser supports (Ubuntu 22.04) runs 249, which ignores newer keys with no more than
// an "Unknown key" warning in the journal: the setting is then silently not applied. A key missing
// here must be looked up (systemd.directives(7), "Added in version N") before a unit may use it.
import { sectionEntries } from './units.ts';

/** Ubuntu 22.04: 249; Debian 12: 252; Ubuntu 24.04: 255. */
export const OLDEST_SYSTEMD = 249;

/** Key -> first systemd version that knows it (keys older than 230 are recorded as 230). */
export const KEY_SINCE: Record<string, number> = {
  After: 230,
  Before: 230,
  Wants: 230,
  Requires: 230,
  BindsTo: 230,
  PartOf: 230,
  Description: 230,
  Documentation: 230,
  ConditionPathExists: 230,
  StartLimitIntervalSec: 230,
  StartLimitBurst: 230,
  WantedBy: 230,
  RequiredBy: 230,
  Type: 230,
  ExecStart: 230,
  ExecStartPre: 230,
  ExecStop: 230,
  ExecReload: 230,
  EnvironmentFile: 230,
  Environment: 230,
  Restart: 230,
  RestartSec: 230,
  KillMode: 230,
  TimeoutStopSec: 230,
  TimeoutStartSec: 230,
  UMask: 230,
  LimitNOFILE: 230,
  LimitNPROC: 230,
  LimitCORE: 230,
  TasksMax: 230,
  Delegate: 230,
  OOMScoreAdjust: 230,
  MemoryHigh: 231,
  MemoryMax: 231,
  RemainAfterExit: 230,
  NotifyAccess: 230,
  WatchdogSec: 230,
  RestartSteps: 254,
  RestartMaxDelaySec: 254,
};

/** Values that need a newer systemd than their key: Type=exec came in 240. */
const VALUE_SINCE: Record<string, Record<string, number>> = { Type: { exec: 240 } };

export interface KeyUse {
  section: string;
  key: string;
  value: string;
  since: number | undefined;
}

/** Every key of a unit or drop-in with the systemd version it needs (undefined: not in the table). */
export function keysNeeded(text: string): KeyUse[] {
  const sections = [...text.matchAll(/^\s*\[([^\]]+)\]\s*$/gm)].map((m) => m[1]);
  return [...new Set(sections)].flatMap((section) =>
    sectionEntries(text, section).map(([key, value]) => {
      const since = KEY_SINCE[key];
      const byValue = VALUE_SINCE[key]?.[value];
      return { section, key, value, since: since === undefined ? undefined : Math.max(since, byValue ?? 0) };
    }),
  );
}
