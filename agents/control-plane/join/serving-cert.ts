// POST /v1-hawser/serving-cert: a kubelet's serving certificate signed by the cluster CA, so that
// the API server can verify the kubelet it dials for logs, exec and port-forward (k3s's
// /v1-k3s/serving-kubelet.crt; upstream's kubelet-serving CSRs). Only a node's own client
// certificate (system:node:<name> in system:nodes) gets one, for its own name and the IPs it
// claims: as in k3s, the claimed IPs are not checked against the Node object.
import { isIP } from 'node:net';
import { ApiError, badRequest } from '../apiserver/errors.ts';
import type { KeyPair } from '../pki.ts';

export const SERVING_CERT_PATH = '/v1-hawser/serving-cert';
const MAX_ADDRESSES = 16;
const NODE_USER = /^system:node:(.+)$/;

export interface ServingCertRequest {
  /** the node's IPs (InternalIP, ExternalIP); the node name is always included */
  addresses: string[];
}

export interface ServingCertResponse extends KeyPair {
  apiVersion: 'hawser.io/v1';
  kind: 'ServingCertResponse';
}

/** The node a verified client identity is, or a 403. */
export function nodeOf(user: { name: string; groups: string[] } | undefined): string {
  const m = user && NODE_USER.exec(user.name);
  if (!m || !user.groups.includes('system:nodes'))
    throw new ApiError(
      403,
      'Forbidden',
      `${user ? `user "${user.name}"` : 'an anonymous client'} cannot get a kubelet serving certificate: only a node's own client certificate can`,
    );
  return m[1];
}

/** The SANs of the certificate: the node name, then each claimed IP once. */
export function servingSANs(nodeName: string, body: unknown): string[] {
  const addrs = body !== null && typeof body === 'object' && Object.hasOwn(body, 'addresses') ? (body as { addresses: unknown }).addresses : undefined;
  if (!Array.isArray(addrs) || addrs.length > MAX_ADDRESSES || !addrs.every((a): a is string => typeof a === 'string' && isIP(a) !== 0))
    throw badRequest(`addresses must be a list of at most ${MAX_ADDRESSES} IP addresses`);
  return [...new Set([nodeName, ...addrs])];
}
