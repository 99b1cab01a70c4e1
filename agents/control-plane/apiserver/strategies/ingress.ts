// networking.k8s.io/v1 Ingress and IngressClass: upstream's validation (hosts, wildcard hosts,
// paths per pathType, a service XOR a resource backend, TLS hosts and secret names, the class
// name and the legacy class annotation, loadBalancer status), IngressClass defaulting
// (parameters.scope Cluster) and kubectl get's columns. The default-class admission is
// ingress-class-admission.ts; the built-in controller is agents/ingress.
import { isIP } from 'node:net';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, notSupported, required, tooLong } from '../validation/field.ts';
import { dns1035Label, dns1123Label, dns1123Subdomain, pathSegmentName } from '../validation/names.ts';
import { PORT_RANGE, validPort, validatePortName } from '../validation/pod.ts';
import type { Obj, Strategy } from './types.ts';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
export const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const PARAMETER_SCOPES = ['Cluster', 'Namespace'];
const MAX_CONTROLLER_LEN = 250;
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);
const WILDCARD_FMT = '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const WILDCARD_RE = new RegExp(`^${WILDCARD_FMT}$`);

export interface ServiceBackend {
  name?: string;
  port?: { name?: string; number?: number };
}
export interface ResourceRef {
  apiGroup?: string;
  kind?: string;
  name?: string;
}
export interface IngressBackend {
  service?: ServiceBackend;
  resource?: ResourceRef;
}
export interface IngressPath {
  path?: string;
  pathType?: string;
  backend?: IngressBackend;
}
export interface IngressRule {
  host?: string;
  http?: { paths?: IngressPath[] };
}
export interface IngressTLS {
  hosts?: string[];
  secretName?: string;
}
export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  rules?: IngressRule[];
  tls?: IngressTLS[];
}

/** apimachinery's IsWildcardDNS1123Subdomain */
function wildcardSubdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!WILDCARD_RE.test(v))
    errs.push(
      "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character " +
        `(e.g. '*.example.com', regex used for validation is '${WILDCARD_FMT}')`,
    );
  return errs;
}

const hostErrors = (host: string) => (host.includes('*') ? wildcardSubdomain(host) : dns1123Subdomain(host));

/** upstream's validateIngressTypedLocalObjectReference */
function validateResourceRef(r: ResourceRef, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (r.apiGroup !== undefined) for (const m of dns1123Subdomain(r.apiGroup)) errs.push(invalid(`${path}.apiGroup`, r.apiGroup, m));
  for (const f of ['kind', 'name'] as const) {
    const v = r[f];
    if (!v) errs.push(required(`${path}.${f}`, `${f} is required`));
    else for (const m of pathSegmentName(v)) errs.push(invalid(`${path}.${f}`, v, m));
  }
  return errs;
}

function validateBackend(b: IngressBackend, path: string): FieldError[] {
  if (b.resource && b.service) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (b.resource) return validateResourceRef(b.resource, `${path}.resource`);
  if (!b.service) return [invalid(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const s = b.service;
  if (!s.name) errs.push(required(`${path}.service.name`, ''));
  else for (const m of dns1035Label(s.name)) errs.push(invalid(`${path}.service.name`, s.name, m));
  const name = s.port?.name ?? '';
  const num = s.port?.number ?? 0;
  if (name && num) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (name) errs.push(...validatePortName(name, `${path}.service.port.name`));
  else if (num) {
    if (!validPort(num)) errs.push(invalid(`${path}.service.port.number`, num, PORT_RANGE));
  } else errs.push(required(path, 'port name or number is required'));
  return errs;
}

function validatePath(p: IngressPath, path: string): FieldError[] {
  if (p.pathType === undefined) return [required(`${path}.pathType`, 'pathType must be specified')];
  const errs: FieldError[] = [];
  const v = p.path ?? '';
  if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
    if (!v.startsWith('/')) errs.push(invalid(`${path}.path`, v, 'must be an absolute path'));
    for (const s of INVALID_PATH_SEQUENCES) if (v.includes(s)) errs.push(invalid(`${path}.path`, v, `must not contain '${s}'`));
    for (const s of INVALID_PATH_SUFFIXES) if (v.endsWith(s)) errs.push(invalid(`${path}.path`, v, `cannot end with '${s}'`));
  } else if (p.pathType === 'ImplementationSpecific') {
    if (v && !v.startsWith('/')) errs.push(invalid(`${path}.path`, v, 'must be an absolute path'));
  } else errs.push(notSupported(`${path}.pathType`, p.pathType, PATH_TYPES));
  return [...errs, ...validateBackend(p.backend ?? {}, `${path}.backend`)];
}

function validateRules(rules: IngressRule[]): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((r, i) => {
    const at = `spec.rules[${i}]`;
    if (r.host) {
      if (isIP(r.host)) errs.push(invalid(`${at}.host`, r.host, 'must be a DNS name, not an IP address'));
      for (const m of hostErrors(r.host)) errs.push(invalid(`${at}.host`, r.host, m));
    }
    if (!r.http) return;
    if (!r.http.paths?.length) errs.push(required(`${at}.http.paths`, ''));
    (r.http.paths ?? []).forEach((p, j) => errs.push(...validatePath(p, `${at}.http.paths[${j}]`)));
  });
  return errs;
}

export function validateIngressSpec(spec: IngressSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec.rules?.length && !spec.defaultBackend) errs.push(invalid('spec', spec.rules ?? null, 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  if (spec.rules?.length) errs.push(...validateRules(spec.rules));
  (spec.tls ?? []).forEach((t, i) => {
    (t.hosts ?? []).forEach((h, j) => {
      for (const m of hostErrors(h)) errs.push(invalid(`spec.tls[${i}].hosts[${j}]`, h, m));
    });
    if (t.secretName) for (const m of dns1123Subdomain(t.secretName)) errs.push(invalid(`spec.tls[${i}].secretName`, t.secretName, m));
  });
  if (spec.ingressClassName !== undefined)
    for (const m of dns1123Subdomain(spec.ingressClassName)) errs.push(invalid('spec.ingressClassName', spec.ingressClassName, m));
  return errs;
}

/** apimachinery's ValidateLoadBalancerStatus, as the ingress status strategy calls it */
function validateLoadBalancerStatus(status: Obj['status']): FieldError[] {
  const errs: FieldError[] = [];
  const ingress: { ip?: string; hostname?: string }[] = status?.loadBalancer?.ingress ?? [];
  ingress.forEach((ing, i) => {
    const at = `status.loadBalancer.ingress[${i}]`;
    if (ing.ip && !isIP(ing.ip)) errs.push(invalid(`${at}.ip`, ing.ip, 'must be a valid IP address'));
    if (ing.hostname) {
      for (const m of dns1123Subdomain(ing.hostname)) errs.push(invalid(`${at}.hostname`, ing.hostname, m));
      if (isIP(ing.hostname)) errs.push(invalid(`${at}.hostname`, ing.hostname, 'must be a DNS name, not an IP address'));
    }
  });
  return errs;
}

// "80" or "80, 443" and at most three hosts, as kubectl's printer
const ingressHosts = (spec: IngressSpec): string => {
  const hosts = (spec.rules ?? []).map((r) => r.host || '*');
  if (!hosts.length) return '*';
  return hosts.length > 3 ? `${hosts.slice(0, 3).join(',')} + ${hosts.length - 3} more...` : hosts.join(',');
};
const ingressAddress = (o: Obj): string =>
  ((o.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[])
    .map((i) => i.ip || i.hostname)
    .filter(Boolean)
    .join(',');

export const ingressStrategy: Strategy = {
  prepareForCreate(o) {
    o.status = {};
  },
  validate: (o) => validateIngressSpec(o.spec ?? {}),
  validateCreate(o) {
    const v = o.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (v !== undefined && o.spec?.ingressClassName !== undefined)
      return [invalid(`annotations.${LEGACY_CLASS_ANNOTATION}`, v, 'can not be set when the class field is also set')];
    return [];
  },
  validateUpdate: (next, _old, subresource) => (subresource === 'status' ? validateLoadBalancerStatus(next.status) : []),
  table: {
    columns: [
      NAME_COLUMN,
      col('Class', 'The name of the IngressClass resource that should be used for Ingress.'),
      col('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      col('Address', 'Address is a list containing ingress points for the load-balancer'),
      col('Ports', 'Ports of TLS configurations that open'),
      AGE_COLUMN,
    ],
    row: (o, now) => [
      o.metadata.name,
      o.spec?.ingressClassName ?? '<none>',
      ingressHosts(o.spec ?? {}),
      ingressAddress(o),
      o.spec?.tls?.length ? '80, 443' : '80',
      age(o.metadata.creationTimestamp, now),
    ],
  },
};

interface ClassParameters extends ResourceRef {
  scope?: string;
  namespace?: string;
}

/** apimachinery's IsDomainPrefixedPath */
function validateController(v: string | undefined): FieldError[] {
  const path = 'spec.controller';
  if (!v) return [required(path, '')];
  const errs: FieldError[] = v.length > MAX_CONTROLLER_LEN ? [tooLong(path, MAX_CONTROLLER_LEN)] : [];
  const slash = v.indexOf('/');
  const host = v.slice(0, slash);
  const rest = v.slice(slash + 1);
  if (slash <= 0 || !rest) return [...errs, invalid(path, v, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  for (const m of dns1123Subdomain(host)) errs.push(invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) errs.push(invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`));
  return errs;
}

function validateParameters(p: ClassParameters | undefined): FieldError[] {
  if (!p) return [];
  const path = 'spec.parameters';
  const errs = validateResourceRef(p, path);
  if (p.scope === undefined) return [...errs, required(`${path}.scope`, '')];
  if (!PARAMETER_SCOPES.includes(p.scope)) return [...errs, notSupported(`${path}.scope`, p.scope, PARAMETER_SCOPES)];
  if (p.scope === 'Namespace') {
    if (p.namespace === undefined) errs.push(required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else for (const m of dns1123Label(p.namespace)) errs.push(invalid(`${path}.namespace`, p.namespace, m));
  } else if (p.namespace !== undefined) errs.push(forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

const parametersCell = (p: ClassParameters | undefined): string => {
  if (!p) return '<none>';
  return `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}`;
};

export const ingressClassStrategy: Strategy = {
  defaults(o) {
    if (o.spec?.parameters) o.spec.parameters.scope ??= 'Cluster';
  },
  validate: (o) => [...validateController(o.spec?.controller), ...validateParameters(o.spec?.parameters)],
  validateUpdate(next, old) {
    if (next.spec?.controller !== old.spec?.controller) return [invalid('spec.controller', next.spec?.controller, 'field is immutable')];
    return [];
  },
  table: {
    columns: [
      NAME_COLUMN,
      col('Controller', 'Controller that is responsible for handling this class'),
      col('Parameters', 'A reference to a resource with additional parameters'),
      AGE_COLUMN,
    ],
    row: (o, now) => [o.metadata.name, o.spec?.controller ?? '', parametersCell(o.spec?.parameters), age(o.metadata.creationTimestamp, now)],
  },
};
