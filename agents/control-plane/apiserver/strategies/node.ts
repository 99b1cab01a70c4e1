// Nodes and namespaces: cluster-scoped housekeeping types.
import { NODE_TABLE } from '../tables/pods.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from '../tables/table.ts';
import { type FieldError, forbidden, invalid, notSupported, required } from '../validation/field.ts';
import { qualifiedName } from '../validation/names.ts';
import { TAINT_EFFECTS } from '../validation/pod.ts';
import { parseCIDR } from '../../../api/ip.ts';
import type { Obj, Strategy } from './types.ts';

const CIDR_MSG = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

function validateNode(node: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const spec = node.spec ?? {};
  const cidrs: string[] = spec.podCIDRs ?? [];
  cidrs.forEach((c, i) => {
    if (!parseCIDR(c)) errs.push(invalid(`spec.podCIDRs[${i}]`, c, CIDR_MSG));
  });
  if (cidrs.length > 2) errs.push(invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family'));
  if (spec.podCIDR && cidrs[0] !== spec.podCIDR) errs.push(invalid('spec.podCIDRs', cidrs, 'the first entry must match spec.podCIDR'));
  (spec.taints ?? []).forEach((t: { key?: string; effect?: string }, i: number) => {
    const p = `spec.taints[${i}]`;
    if (!t.key) errs.push(required(`${p}.key`));
    else for (const m of qualifiedName(t.key)) errs.push(invalid(`${p}.key`, t.key, m));
    if (!t.effect) errs.push(required(`${p}.effect`));
    else if (!TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
  });
  return errs;
}

export const nodeStrategy: Strategy = {
  defaults(node) {
    node.spec ??= {};
    // podCIDR mirrors podCIDRs[0], whichever of the two a client set
    if (node.spec.podCIDR && !node.spec.podCIDRs?.length) node.spec.podCIDRs = [node.spec.podCIDR];
    if (!node.spec.podCIDR && node.spec.podCIDRs?.length) node.spec.podCIDR = node.spec.podCIDRs[0];
    node.status ??= {};
    node.status.daemonEndpoints ??= { kubeletEndpoint: { Port: 0 } };
  },
  validate: validateNode,
  validateUpdate(next, old) {
    const errs: FieldError[] = [];
    const was: string[] = old.spec?.podCIDRs ?? [];
    const now: string[] = next.spec?.podCIDRs ?? [];
    if (was.length && JSON.stringify(was) !== JSON.stringify(now))
      errs.push(forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid'));
    if (old.spec?.providerID && next.spec?.providerID !== old.spec.providerID)
      errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
    return errs;
  },
  selectableFields: (node) => ({ 'spec.unschedulable': String(node.spec?.unschedulable ?? false) }),
  table: NODE_TABLE,
};

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export const namespaceStrategy: Strategy = {
  returnDeletedObject: true,
  prepareForCreate(ns) {
    ns.spec = { finalizers: ['kubernetes'] };
    ns.status = { phase: 'Active' };
  },
  defaults(ns) {
    // upstream labels every namespace with its own name
    ns.metadata.labels = { ...(ns.metadata.labels ?? {}) };
    if (ns.metadata.name) ns.metadata.labels['kubernetes.io/metadata.name'] = ns.metadata.name;
  },
  selectableFields: (ns) => ({ 'status.phase': ns.status?.phase ?? '' }),
  extraFinalizers: (ns) => ns.spec?.finalizers ?? [],
  prepareForDelete(ns) {
    ns.status = { ...(ns.status ?? {}), phase: 'Terminating' };
  },
  undeletable: (ns) => (PROTECTED_NAMESPACES.has(ns.metadata.name ?? '') ? 'this namespace may not be deleted' : undefined),
  table: {
    columns: [NAME_COLUMN, col('Status', 'The status of the namespace'), AGE_COLUMN],
    row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? '', age(ns.metadata.creationTimestamp, now)],
  },
};
