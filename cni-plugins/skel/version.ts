// CNI spec versions: which ones we speak, how to compare them, and how a config names its version.
import { CniError, ErrCode } from './errors.ts';

/** Every version our plugins accept in a config and can produce a result for. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const CURRENT_VERSION = '1.1.0';

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new CniError(ErrCode.decodingFailure, `unable to parse version string "${v}"`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** a >= b in semver order (versions are plain x.y.z). Throws a decoding error on a malformed one. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] > pb[i];
  return true;
}

/** The version a config declares; an absent cniVersion means 0.1.0, as in the spec's first release. */
export function configVersion(conf: Record<string, unknown>): string {
  const v = conf.cniVersion;
  if (v === undefined || v === null || v === '') return '0.1.0';
  if (typeof v !== 'string') throw new CniError(ErrCode.decodingFailure, 'cniVersion must be a string');
  return v;
}

/** Refuse a config version we cannot speak, with the reference's message and details. */
export function checkVersionSupported(v: string, supported: readonly string[] = SUPPORTED_VERSIONS): void {
  if (supported.includes(v)) return;
  const list = supported.map((s) => JSON.stringify(s)).join(' ');
  throw new CniError(ErrCode.incompatibleVersion, 'incompatible CNI versions', `config is "${v}", plugin supports [${list}]`);
}

/** The VERSION verb's answer. */
export function versionInfo(cniVersion: string, supported: readonly string[] = SUPPORTED_VERSIONS): Record<string, unknown> {
  return { cniVersion, supportedVersions: [...supported] };
}
