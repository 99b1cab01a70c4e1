// Shared by the storage-*.test.ts files, which mirror upstream's pod-volume conformance tests
// (test/e2e/common/storage/*.go, test/e2e/storage/subpath.go): one lab for all of them, a namespace
// per test, and a busybox stand-in for agnhost's `mounttest` that prints the same lines upstream
// greps for ("content of file", "mode of file" as Go's os.FileMode string, "perms of file",
// "owner UID/GID of", "mount type of"), so that each mirror checks exactly what upstream checks.
import test, { type ExecutionContext } from 'ava';
import { Cluster, downLab, eventually, namespace, upLab, type NodeLab } from './node-e2e.ts';

const LAB = ['vol', '10.82.0.0/24'] as const;

/** upstream's nonRootTestUserID (setPodNonRootUser) and empty_dir.go's nonRootUID */
export const NON_ROOT_UID = 1000;
export const EMPTYDIR_NON_ROOT_UID = 1001;

export type Json = Record<string, unknown>;

export interface V {
  c: Cluster;
  t: ExecutionContext;
  lab: NodeLab;
}

/** Registers the file's lab hooks and returns its `it`: a test with its own namespace. */
export function volumeSuite() {
  let L: NodeLab;
  test.before(async () => {
    L = await upLab(...LAB);
  });
  test.after.always(async () => {
    await downLab(...LAB);
  });
  return (name: string, body: (v: V) => Promise<void>) => test(name, async (t) => body({ c: new Cluster(L.kc, await namespace(t, L.kc)), t, lab: L }));
}

// ---- agnhost mounttest, in busybox sh ----

export interface MountTest {
  /** --fs_type */ fsType?: string;
  /** --new_file_0644 / 0666 / 0777: [path, mode] */ newFile?: [string, number];
  /** --file_perm */ perm?: string;
  /** --file_mode */ mode?: string;
  /** --file_owner */ owner?: string;
  /** --file_content */ content?: string[];
  /** --file_content_in_loop with --break_on_expected_content=false and --retry_time (seconds) */ loop?: [string, number];
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The container command printing what `agnhost mounttest <flags>` prints (modes still raw: see agnhostLog). */
export function mounttest(m: MountTest): { command: string[] } {
  const lines: string[] = [];
  if (m.fsType) lines.push(`echo "mount type of \\"${m.fsType}\\": $(stat -f -c %T ${q(m.fsType)})"`);
  if (m.newFile) {
    const [p, mode] = m.newFile;
    lines.push(`umask 0; echo 'mount-tester new file' > ${q(p)} && chmod ${mode.toString(8)} ${q(p)} || echo "error creating ${p}"`);
    lines.push(`echo "content of file \\"${p}\\": $(cat ${q(p)})"`);
  }
  if (m.perm) lines.push(`echo "perms of file \\"${m.perm}\\": raw:$(stat -L -c %f ${q(m.perm)})"`);
  if (m.mode) lines.push(`echo "mode of file \\"${m.mode}\\": raw:$(stat -L -c %f ${q(m.mode)})"`);
  if (m.owner)
    lines.push(`echo "owner UID of \\"${m.owner}\\": $(stat -L -c %u ${q(m.owner)})"`, `echo "owner GID of \\"${m.owner}\\": $(stat -L -c %g ${q(m.owner)})"`);
  for (const p of m.content ?? []) lines.push(`echo "content of file \\"${p}\\": $(cat ${q(p)})"`);
  if (m.loop) {
    const [p, secs] = m.loop;
    lines.push(
      `i=0; while [ $i -lt ${secs} ]; do if v=$(cat ${q(p)} 2>&1); then echo "content of file \\"${p}\\": $v"; else echo "Error reading file ${p}: $v, retrying"; fi; i=$((i+1)); sleep 1; done`,
    );
  }
  return { command: ['sh', '-c', lines.join('\n')] };
}

/** Go's os.FileMode(m).String() for a raw st_mode, as agnhost prints it. */
export function goFileMode(st: number): string {
  const fmt = st & 0o170000;
  let s = '';
  if (fmt === 0o040000) s += 'd';
  if (fmt === 0o120000) s += 'L';
  if (fmt === 0o060000 || fmt === 0o020000) s += 'D';
  if (fmt === 0o010000) s += 'p';
  if (fmt === 0o140000) s += 'S';
  if (st & 0o4000) s += 'u';
  if (st & 0o2000) s += 'g';
  if (fmt === 0o020000) s += 'c';
  if (st & 0o1000) s += 't';
  if (!s) s = '-';
  const rwx = 'rwxrwxrwx';
  for (let i = 0; i < 9; i++) s += st & (1 << (8 - i)) ? rwx[i] : '-';
  return s;
}

/** A mounttest log with raw modes rendered as agnhost does: --file_mode the whole mode, --file_perm only Perm(). */
export const agnhostLog = (log: string) =>
  log.replace(
    /^(mode|perms) of file "([^"]*)": raw:([0-9a-f]+)$/gm,
    (_, kind: string, p: string, hex: string) => `${kind} of file "${p}": ${goFileMode(kind === 'perms' ? parseInt(hex, 16) & 0o777 : parseInt(hex, 16))}`,
  );

/** upstream's getFileModeRegex, Linux half: the mode line for `mask` (0644 when unset). */
export const fileModeLine = (path: string, mask?: number) => `mode of file "${path}": ${goFileMode(0o100000 | (mask ?? 0o644))}`;

// ---- pods and the checks upstream's framework makes on them ----

export const podOf = (name: string, spec: Json, meta: Json = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { restartPolicy: 'Never', ...spec } });

export const objOf = (kind: string, name: string, body: Json) => JSON.stringify({ apiVersion: 'v1', kind, metadata: { name }, ...body });

/** A Secret's data as upstream writes it (bytes), base64 for the API. */
export const secretData = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

/** A container log with mounttest's raw modes rendered. */
export async function logOf(c: Cluster, pod: string, container: string): Promise<string> {
  return agnhostLog(await c.ok(['logs', pod, '-c', container]));
}

/**
 * upstream's TestContainerOutput / TestContainerOutputRegexp: create the pod, wait for it to
 * succeed, and find every expected string (or regexp) in the container's log.
 */
export async function containerOutput(v: V, podJson: string, container: string, expected: (string | RegExp)[]): Promise<void> {
  const name = JSON.parse(podJson).metadata.name as string;
  await v.c.apply(podJson);
  const p = await v.c.waitPod(name, 'Succeeded or Failed', (x) => x.status?.phase === 'Succeeded' || x.status?.phase === 'Failed', 90_000);
  const log = await logOf(v.c, name, container);
  v.t.is(p.status.phase, 'Succeeded', log);
  for (const e of expected) {
    if (typeof e === 'string') v.t.true(log.includes(e), `expected ${JSON.stringify(e)} in the log of ${container}:\n${log}`);
    else v.t.regex(log, e);
  }
}

/** upstream's Eventually(pollLogs).Should(ContainSubstring(s)), bounded. */
export async function logEventually(v: V, pod: string, container: string, s: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    `${JSON.stringify(s)} in the log of ${pod}/${container}`,
    async () => (await logOf(v.c, pod, container).catch(() => '')).includes(s),
    timeoutMs,
    1000,
  );
  v.t.pass();
}
