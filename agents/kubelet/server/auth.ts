// Who may use the kubelet API, decided purely from the verified client certificate: the user is
// the subject's CN and the groups its O values (as the API server's x509 authenticator reads them).
// Only cluster admins (system:masters) and the API server's own kubelet-client identity pass; there
// is no webhook to the API server's RBAC, so nodes/proxy-style grants to other users do not exist.
export interface UserInfo {
  name: string;
  groups: string[];
}

/** The identity kube-apiserver (and hawser's API server) presents to kubelets. */
export const APISERVER_KUBELET_CLIENT = 'kube-apiserver-kubelet-client';
export const MASTERS_GROUP = 'system:masters';

type NameField = string | string[] | undefined;
const values = (v: NameField): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The user of a certificate subject as node's TLSSocket.getPeerCertificate() gives it; undefined without a CN. */
export function userFromSubject(subject: { CN?: NameField; O?: NameField } | undefined): UserInfo | undefined {
  const name = values(subject?.CN)[0];
  if (!name) return undefined;
  return { name, groups: [...values(subject?.O), 'system:authenticated'] };
}

export interface RequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
}

const VERBS: Record<string, string> = { GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/** The node subresource a request touches, as upstream names them for authorization (proxy by default). */
export function requestAttributes(method: string, pathname: string, nodeName: string): RequestAttributes {
  const subresource = under(pathname, '/stats') ? 'stats' : under(pathname, '/metrics') ? 'metrics' : under(pathname, '/logs') ? 'log' : 'proxy';
  return { verb: VERBS[method] ?? method.toLowerCase(), resource: 'nodes', subresource, name: nodeName };
}

export function authorize(user: UserInfo, attrs: RequestAttributes): { allowed: boolean; reason: string } {
  if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: `member of ${MASTERS_GROUP}` };
  if (user.name === APISERVER_KUBELET_CLIENT) return { allowed: true, reason: 'the API server' };
  return {
    allowed: false,
    reason: `Forbidden (user=${user.name}, verb=${attrs.verb}, resource=${attrs.resource}, subresource=${attrs.subresource})`,
  };
}
