// The two files of secrets encryption in the control plane's data dir, shared by the server and
// `hawser secrets-encrypt`: cred/encryption-config.json (the keys; k3s's path and name) and
// cred/encryption-state.json (the rotation stage, and the reencryption the CLI asks the running
// server for). Both are written whole (temp file + rename) at 0600 in a 0700 directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '../private-file.ts';
import { join } from 'node:path';
import { parseEncryptionConfig, type EncryptionConfiguration } from './encryption-config.ts';

/** k3s's stages: start -> prepare -> rotate -> reencrypt_request -> reencrypt_active -> reencrypt_finished (or failed) */
export type EncryptionStage = 'start' | 'prepare' | 'rotate' | 'reencrypt_request' | 'reencrypt_active' | 'reencrypt_finished' | 'reencrypt_failed';

export interface EncryptionState {
  stage: EncryptionStage;
  /** when the CLI asked for a reencryption (ISO time) */
  requestedAt?: string;
  finishedAt?: string;
  /** keys under the encrypted resources, and those rewritten, by the last reencryption */
  total?: number;
  rewritten?: number;
  /** why the last reencryption failed */
  error?: string;
}

export const credDir = (dataDir: string): string => join(dataDir, 'cred');
export const configFile = (dataDir: string): string => join(credDir(dataDir), 'encryption-config.json');
export const stateFile = (dataDir: string): string => join(credDir(dataDir), 'encryption-state.json');

export function readConfig(dataDir: string): EncryptionConfiguration | undefined {
  const f = configFile(dataDir);
  if (!existsSync(f)) return undefined;
  try {
    return parseEncryptionConfig(readFileSync(f, 'utf8'));
  } catch (e) {
    throw new Error(`${f}: ${(e as Error).message}`);
  }
}

export function writeConfig(dataDir: string, cfg: EncryptionConfiguration): void {
  writeFileAtomic(configFile(dataDir), `${JSON.stringify(cfg, null, 2)}\n`);
}

export function readState(dataDir: string): EncryptionState {
  const f = stateFile(dataDir);
  if (!existsSync(f)) return { stage: 'start' };
  return JSON.parse(readFileSync(f, 'utf8')) as EncryptionState;
}

export function writeState(dataDir: string, s: EncryptionState): void {
  writeFileAtomic(stateFile(dataDir), `${JSON.stringify(s, null, 2)}\n`);
}

/** Changes whenever a file is replaced: its modification time and inode. */
export function fileStamp(file: string): string {
  if (!existsSync(file)) return '';
  const s = statSync(file);
  return `${s.ino}:${s.mtimeMs}:${s.size}`;
}
