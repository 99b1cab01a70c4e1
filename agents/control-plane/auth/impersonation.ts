// Impersonate-User / Impersonate-Group headers (kubectl --as, --as-group): the requester needs the
// impersonate verb on users (and on each group); the request then runs as that identity.
import type { Attributes, UserInfo } from './attributes.ts';

export interface Impersonation {
  user: string;
  groups: string[];
}

/** The identity the headers ask for, or undefined; throws on groups without a user. */
export function requestedImpersonation(headers: Record<string, string | undefined>): Impersonation | undefined {
  const user = headers['impersonate-user'];
  const groupHeader = headers['impersonate-group'];
  if (!user && !groupHeader) return undefined;
  if (!user) throw new Error('requested impersonation of groups without impersonating a user');
  return {
    user,
    groups: String(groupHeader ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean),
  };
}

/** The checks to pass (one per user and group) before acting as `imp`. */
export function impersonationChecks(requester: UserInfo, imp: Impersonation, path: string): Attributes[] {
  const base: Attributes = {
    user: requester,
    verb: 'impersonate',
    resourceRequest: true,
    path,
    apiGroup: '',
    resource: 'users',
    subresource: '',
    namespace: '',
    name: imp.user,
  };
  return [base, ...imp.groups.map((g) => ({ ...base, resource: 'groups', name: g }))];
}

export function impersonatedUser(imp: Impersonation): UserInfo {
  return { name: imp.user, groups: imp.groups.includes('system:authenticated') ? imp.groups : [...imp.groups, 'system:authenticated'] };
}
