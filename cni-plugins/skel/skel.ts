// The CNI protocol around a plugin: environment, stdin config, version checks, verb dispatch and the
// result/error on stdout. `dispatch` is pure of process state (env and stdin come in as arguments) so
// the same code serves a one-shot exec and a resident daemon.
import { CniError, ErrCode, asCniError } from './errors.ts';
import { readCmdEnv, validateNetworkName, type Command } from './env.ts';
import { checkVersionSupported, configVersion, versionAtLeast, versionInfo, CURRENT_VERSION, SUPPORTED_VERSIONS } from './version.ts';

export interface CmdArgs {
  command: Command;
  containerId: string;
  netns: string;
  ifName: string;
  args: string;
  path: string;
  stdin: string;
  /** the parsed stdin config */
  conf: Record<string, unknown>;
  /** the config's cniVersion (defaulted) */
  version: string;
  /** the whole environment of the request, for delegating to other plugins */
  env: Record<string, string | undefined>;
}

/** What a verb returns: a JSON object to print, or nothing (DEL, CHECK, GC print nothing on success). */
export type VerbResult = Record<string, unknown> | undefined | void;
type Verb = (a: CmdArgs) => Promise<VerbResult>;

export interface PluginFuncs {
  add: Verb;
  del: Verb;
  check?: Verb;
  status?: Verb;
  gc?: Verb;
  /** shown on stderr when run with no CNI_COMMAND, like the reference's "about" line */
  about: string;
  supportedVersions?: readonly string[];
}

export interface Request {
  env: Record<string, string | undefined>;
  stdin: string;
}
export interface Response {
  stdout: string;
  stderr: string;
  exitCode: number;
}

function parseConfig(stdin: string): Record<string, unknown> {
  let conf: unknown;
  try {
    conf = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(ErrCode.decodingFailure, `error unmarshall network config: ${(e as Error).message}`);
  }
  if (!conf || typeof conf !== 'object' || Array.isArray(conf)) {
    throw new CniError(ErrCode.decodingFailure, 'error unmarshall network config: not a JSON object');
  }
  const c = conf as Record<string, unknown>;
  if (typeof c.name !== 'string' || c.name === '') throw new CniError(ErrCode.invalidNetworkConfig, 'missing network name');
  validateNetworkName(c.name);
  return c;
}

/** Verbs newer than a config's version are refused, as the spec says (CHECK needs 0.4.0, GC/STATUS 1.1.0). */
const MIN_VERSION: Partial<Record<Command, string>> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };

async function run(funcs: PluginFuncs, req: Request): Promise<string> {
  const supported = funcs.supportedVersions ?? SUPPORTED_VERSIONS;
  const env = readCmdEnv(req.env);
  if (env.command === 'VERSION') return JSON.stringify(versionInfo(CURRENT_VERSION, supported));
  const conf = parseConfig(req.stdin);
  const version = configVersion(conf);
  const min = MIN_VERSION[env.command];
  if (min) {
    if (!versionAtLeast(version, min)) {
      throw new CniError(ErrCode.incompatibleVersion, `config version does not allow ${env.command}`);
    }
  }
  checkVersionSupported(version, supported);
  const verb = { ADD: funcs.add, DEL: funcs.del, CHECK: funcs.check, STATUS: funcs.status, GC: funcs.gc }[env.command];
  if (!verb) {
    // STATUS with no handler means "ready"; GC with no state to collect is a no-op.
    if (env.command === 'STATUS' || env.command === 'GC') return '';
    throw new CniError(ErrCode.invalidEnv, `unknown CNI_COMMAND: ${env.command}`);
  }
  const out = await verb({ ...env, stdin: req.stdin, conf, version, env: req.env });
  return out ? JSON.stringify(out, null, 4) : '';
}

/** Run one CNI request. Never throws: failures become the spec's error JSON and exit code 1. */
export async function dispatch(funcs: PluginFuncs, req: Request): Promise<Response> {
  if (!req.env.CNI_COMMAND) {
    const list = (funcs.supportedVersions ?? SUPPORTED_VERSIONS).join(', ');
    return { stdout: '', stderr: `${funcs.about}\nCNI protocol versions supported: ${list}\n`, exitCode: 0 };
  }
  try {
    return { stdout: await run(funcs, req), stderr: '', exitCode: 0 };
  } catch (e) {
    const err = asCniError(e);
    let version = CURRENT_VERSION;
    try {
      const v = (JSON.parse(req.stdin) as Record<string, unknown>).cniVersion;
      if (typeof v === 'string' && v) version = v;
    } catch {
      /* unparsable config: report in our own version */
    }
    return { stdout: JSON.stringify(err.toJSON(version), null, 4), stderr: '', exitCode: 1 };
  }
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (c: Buffer) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

/** Entry point of a one-shot plugin process. */
export async function pluginMain(funcs: PluginFuncs): Promise<void> {
  const stdin = process.env.CNI_COMMAND === 'VERSION' ? '' : await readStdin();
  const res = await dispatch(funcs, { env: process.env, stdin });
  if (res.stderr) process.stderr.write(res.stderr);
  if (res.stdout) process.stdout.write(res.stdout);
  process.exitCode = res.exitCode;
}
