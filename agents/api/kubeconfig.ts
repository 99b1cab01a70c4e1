// Reads a kubeconfig (the file kubectl uses) into what an HTTPS client needs: the server URL, the CA
// to pin, and a client certificate or bearer token. Only the current context is used.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ClusterAuth {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecureSkipTLSVerify?: boolean;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

function pick<T>(list: Named<T>[] | undefined, name: string, what: string): T {
  const hit = (list ?? []).find((e) => e.name === name);
  const body = hit && (hit.cluster ?? hit.user ?? hit.context);
  if (!body) throw new Error(`kubeconfig: ${what} "${name}" not found`);
  return body;
}

function material(base: string, data: unknown, file: unknown): Buffer | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
  if (typeof file === 'string' && file) return readFileSync(resolve(base, file));
  return undefined;
}

export function parseKubeconfig(text: string, baseDir = '.'): ClusterAuth {
  const doc = parse(text) as Record<string, any>;
  const ctxName = doc['current-context'] ?? doc.contexts?.[0]?.name;
  if (!ctxName) throw new Error('kubeconfig: no current-context');
  const ctx = pick<Record<string, string>>(doc.contexts, ctxName, 'context');
  const cluster = pick<Record<string, any>>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user ? pick<Record<string, any>>(doc.users, ctx.user, 'user') : {};
  if (!cluster.server) throw new Error(`kubeconfig: cluster "${ctx.cluster}" has no server`);
  return {
    server: String(cluster.server).replace(/\/+$/, ''),
    ca: material(baseDir, cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(baseDir, user['client-certificate-data'], user['client-certificate']),
    key: material(baseDir, user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? readFileSync(resolve(baseDir, user.tokenFile), 'utf8').trim() : undefined),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export function loadKubeconfig(path: string): ClusterAuth {
  return parseKubeconfig(readFileSync(path, 'utf8'), dirname(path));
}
