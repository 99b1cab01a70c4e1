// networking.k8s.io/v1 NetworkPolicy: upstream's defaulting (policyTypes: Ingress always, Egress
// when egress rules are given; port protocol TCP), its validation (ports with endPort, peers,
// ipBlock CIDRs and excepts, policyTypes, label selectors) with upstream's field paths and
// messages, and kubectl get's columns. The nodes enforce it (agents/netpol).
import { contains, networkOf, parseCIDR } from '../../../api/ip.ts';
import type { LabelSelectorObject } from '../selectors.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from '../validation/field.ts';
import { validateLabelSelector } from '../validation/label-selector.ts';
import { PORT_RANGE, validPort, validatePortName } from '../validation/pod.ts';
import { selectorString } from './apps.ts';
import type { Obj, Strategy } from './types.ts';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface PolicyPeer {
  podSelector?: LabelSelectorObject;
  namespaceSelector?: LabelSelectorObject;
  ipBlock?: { cidr?: string; except?: string[] };
}
interface PolicyRule {
  ports?: PolicyPort[];
  from?: PolicyPeer[];
  to?: PolicyPeer[];
}

function validatePort(port: PolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errs.push(notSupported(`${path}.protocol`, port.protocol, PROTOCOLS));
  if (port.port === undefined) {
    if (port.endPort !== undefined) errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof port.port === 'number') {
    if (!validPort(port.port)) errs.push(invalid(`${path}.port`, port.port, PORT_RANGE));
    if (port.endPort !== undefined) {
      // upstream reports the port, not the endPort, as the value here
      if (port.endPort < port.port) errs.push(invalid(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
      if (!validPort(port.endPort)) errs.push(invalid(`${path}.endPort`, port.endPort, PORT_RANGE));
    }
  } else {
    if (port.endPort !== undefined) errs.push(invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'));
    errs.push(...validatePortName(port.port, `${path}.port`));
  }
  return errs;
}

function validateIPBlock(b: NonNullable<PolicyPeer['ipBlock']>, path: string): FieldError[] {
  if (!b.cidr) return [required(`${path}.cidr`)];
  const cidr = parseCIDR(b.cidr);
  if (!cidr) return [invalid(`${path}.cidr`, b.cidr, 'not a valid CIDR')];
  const errs: FieldError[] = [];
  for (const [i, e] of (b.except ?? []).entries()) {
    const ex = parseCIDR(e);
    if (!ex) return [...errs, invalid(`${path}.except[${i}]`, e, 'not a valid CIDR')];
    if (!contains(cidr, networkOf(ex)) || cidr.prefix >= ex.prefix) errs.push(invalid(`${path}.except[${i}]`, e, 'must be a strict subset of `cidr`'));
  }
  return errs;
}

function validatePeer(peer: PolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  if (peer.podSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  }
  if (peer.namespaceSelector) {
    n++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (peer.ipBlock) {
    n++;
    errs.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  }
  if (n === 0) errs.push(required(path, 'must specify a peer'));
  else if (n > 1 && peer.ipBlock) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateRules(rules: PolicyRule[] | undefined, path: string, peers: 'from' | 'to'): FieldError[] {
  const errs: FieldError[] = [];
  (rules ?? []).forEach((r, i) => {
    (r.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `${path}[${i}].ports[${j}]`)));
    (r[peers] ?? []).forEach((p, j) => errs.push(...validatePeer(p, `${path}[${i}].${peers}[${j}]`)));
  });
  return errs;
}

export function validateNetworkPolicySpec(spec: Obj['spec']): FieldError[] {
  const errs = [
    ...validateLabelSelector(spec?.podSelector, 'spec.podSelector'),
    ...validateRules(spec?.ingress, 'spec.ingress', 'from'),
    ...validateRules(spec?.egress, 'spec.egress', 'to'),
  ];
  const types: string[] = spec?.policyTypes ?? [];
  if (types.length > POLICY_TYPES.length) return [...errs, invalid('spec.policyTypes', types, 'may not specify more than two policyTypes')];
  types.forEach((t, i) => {
    if (!POLICY_TYPES.includes(t)) errs.push(notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return errs;
}

export const networkPolicyStrategy: Strategy = {
  defaults(o) {
    o.spec ??= {};
    o.spec.podSelector ??= {};
    for (const rule of [...(o.spec.ingress ?? []), ...(o.spec.egress ?? [])] as PolicyRule[]) for (const p of rule.ports ?? []) p.protocol ??= 'TCP';
    if (!o.spec.policyTypes?.length) o.spec.policyTypes = o.spec.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  validate: (o) => validateNetworkPolicySpec(o.spec),
  table: {
    columns: [
      NAME_COLUMN,
      col('Pod-Selector', 'Selects the pods to which this NetworkPolicy object applies. An empty podSelector matches all pods in this namespace.'),
      AGE_COLUMN,
    ],
    row: (o, now) => [o.metadata.name, selectorString(o.spec?.podSelector), age(o.metadata.creationTimestamp, now)],
  },
};
