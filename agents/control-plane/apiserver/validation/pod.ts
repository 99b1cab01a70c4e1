// Pod spec validation: the subset of upstream ValidatePodSpec that users trip over, with upstream's
// field paths and messages, plus the pod update rule (spec is immutable but for a few fields).
import { parseQuantity } from '../../../api/pod-defaults.ts';
import { duplicate, type FieldError, forbidden, invalid, notFoundField, notSupported, required } from './field.ts';
import { validateLabels } from './meta.ts';
import { validateEphemeralContainers } from './ephemeral.ts';
import { dns1123Label, dns1123Subdomain, qualifiedName } from './names.ts';
import { getOwn } from '../safe-keys.ts';

type Any = Record<string, any>;

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TERMINATION_MSG_POLICIES = ['File', 'FallbackToLogsOnError'];
const TOLERATION_OPS = ['Equal', 'Exists'];
export const TAINT_EFFECTS = ['NoExecute', 'NoSchedule', 'PreferNoSchedule'];
export const PORT_RANGE = 'must be between 1 and 65535, inclusive';
const ENV_NAME_RE = /^[^=]+$/; // relaxed env var names (1.30+): printable, no '='
const PORT_NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validPort(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;
}

export function validatePortName(name: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (name.length > 15) errs.push(invalid(path, name, 'must be no more than 15 characters'));
  if (!PORT_NAME_RE.test(name)) errs.push(invalid(path, name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
  else if (!/[a-z]/.test(name)) errs.push(invalid(path, name, 'must contain at least one letter (a-z)'));
  return errs;
}

function validateResources(r: Any | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!r) return errs;
  for (const kind of ['limits', 'requests'] as const) {
    for (const [k, v] of Object.entries(r[kind] ?? {})) {
      const n = parseQuantity(v);
      if (n !== undefined && n < 0) errs.push(invalid(`${path}.${kind}[${k}]`, v, 'must be greater than or equal to 0'));
      for (const m of qualifiedName(k)) errs.push(invalid(`${path}.${kind}[${k}]`, k, m));
    }
  }
  for (const [k, v] of Object.entries(r.requests ?? {})) {
    const lim = r.limits ? getOwn(r.limits, k) : undefined;
    if (lim === undefined) continue;
    const req = parseQuantity(v);
    const l = parseQuantity(lim);
    if (req !== undefined && l !== undefined && req > l) errs.push(invalid(`${path}.requests`, v, `must be less than or equal to ${k} limit of ${lim}`));
  }
  return errs;
}

function validateProbe(p: Any | undefined, path: string): FieldError[] {
  if (!p) return [];
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => p[h]);
  if (handlers.length === 0) errs.push(required(path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    if (typeof p[f] === 'number' && p[f] < 0) errs.push(invalid(`${path}.${f}`, p[f], 'must be greater than or equal to 0'));
  }
  const port = p.httpGet?.port ?? p.tcpSocket?.port;
  const portPath = `${path}.${p.httpGet ? 'httpGet' : 'tcpSocket'}.port`;
  if (typeof port === 'number' && !validPort(port)) errs.push(invalid(portPath, port, PORT_RANGE));
  if (typeof port === 'string') errs.push(...validatePortName(port, portPath));
  return errs;
}

function validateContainer(c: Any, path: string, volumes: Set<string>, requireImage: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(`${path}.name`));
  else for (const m of dns1123Label(c.name)) errs.push(invalid(`${path}.name`, c.name, m));
  if (requireImage && (!c.image || !String(c.image).trim())) errs.push(required(`${path}.image`));
  if (c.imagePullPolicy && !PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  if (c.terminationMessagePolicy && !TERMINATION_MSG_POLICIES.includes(c.terminationMessagePolicy))
    errs.push(notSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, TERMINATION_MSG_POLICIES));
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((p: Any, i: number) => {
    const pp = `${path}.ports[${i}]`;
    if (p.containerPort === undefined) errs.push(required(`${pp}.containerPort`));
    else if (!validPort(p.containerPort)) errs.push(invalid(`${pp}.containerPort`, p.containerPort, PORT_RANGE));
    if (p.hostPort !== undefined && p.hostPort !== 0 && !validPort(p.hostPort)) errs.push(invalid(`${pp}.hostPort`, p.hostPort, PORT_RANGE));
    if (p.protocol && !PROTOCOLS.includes(p.protocol)) errs.push(notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
    if (p.name) {
      errs.push(...validatePortName(p.name, `${pp}.name`));
      if (portNames.has(p.name)) errs.push(duplicate(`${pp}.name`, p.name));
      portNames.add(p.name);
    }
  });
  (c.env ?? []).forEach((e: Any, i: number) => {
    const ep = `${path}.env[${i}]`;
    if (!e.name) errs.push(required(`${ep}.name`));
    else if (!ENV_NAME_RE.test(e.name))
      errs.push(invalid(`${ep}.name`, e.name, "a valid environment variable name must consist only of printable ASCII characters other than '='"));
    if (e.value !== undefined && e.value !== '' && e.valueFrom) errs.push(invalid(`${ep}.valueFrom`, '', 'may not be specified when `value` is not empty'));
  });
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m: Any, i: number) => {
    const mp = `${path}.volumeMounts[${i}]`;
    if (!m.name) errs.push(required(`${mp}.name`));
    else if (!volumes.has(m.name)) errs.push(notFoundField(`${mp}.name`, m.name));
    if (!m.mountPath) errs.push(required(`${mp}.mountPath`));
    else if (mountPaths.has(m.mountPath)) errs.push(invalid(`${mp}.mountPath`, m.mountPath, 'must be unique'));
    else mountPaths.add(m.mountPath);
    if (m.subPath) errs.push(...localDescendingPath(m.subPath, `${mp}.subPath`));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(invalid(`${mp}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...localDescendingPath(m.subPathExpr, `${mp}.subPathExpr`));
    }
  });
  errs.push(...validateResources(c.resources, `${path}.resources`));
  errs.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`));
  errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`));
  errs.push(...validateProbe(c.startupProbe, `${path}.startupProbe`));
  return errs;
}

/** upstream validateLocalDescendingPath: relative, and no ".." element (one error is enough). */
function localDescendingPath(p: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (p.startsWith('/')) errs.push(invalid(field, p, 'must be a relative path'));
  if (p.split('/').includes('..')) errs.push(invalid(field, p, "must not contain '..'"));
  return errs;
}

export function validateTolerations(tols: Any[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (tols ?? []).forEach((t: Any, i: number) => {
    const tp = `${path}[${i}]`;
    if (t.key) for (const m of qualifiedName(t.key)) errs.push(invalid(`${tp}.key`, t.key, m));
    if (t.operator && !TOLERATION_OPS.includes(t.operator)) errs.push(notSupported(`${tp}.operator`, t.operator, TOLERATION_OPS));
    if (!t.key && t.operator !== 'Exists')
      errs.push(invalid(`${tp}.operator`, t.operator ?? '', 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.operator === 'Exists' && t.value) errs.push(invalid(`${tp}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    if (t.effect && !TAINT_EFFECTS.includes(t.effect)) errs.push(notSupported(`${tp}.effect`, t.effect, TAINT_EFFECTS));
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute')
      errs.push(invalid(`${tp}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
  });
  return errs;
}

/** requireImage: false for pod templates (images may be filled in later). */
export function validatePodSpec(spec: Any | undefined, path = 'spec', requireImage = true): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [required(path)];
  const volumes = new Set<string>();
  (spec.volumes ?? []).forEach((v: Any, i: number) => {
    const vp = `${path}.volumes[${i}]`;
    if (!v.name) errs.push(required(`${vp}.name`));
    else {
      for (const m of dns1123Label(v.name)) errs.push(invalid(`${vp}.name`, v.name, m));
      if (volumes.has(v.name)) errs.push(duplicate(`${vp}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = Object.keys(v).filter((k) => k !== 'name');
    if (sources.length > 1) errs.push(forbidden(`${vp}.${sources[1]}`, 'may not specify more than 1 volume type'));
    if (v.hostPath && !v.hostPath.path) errs.push(required(`${vp}.hostPath.path`));
    if (v.configMap && !v.configMap.name) errs.push(required(`${vp}.configMap.name`));
    if (v.secret && !v.secret.secretName) errs.push(required(`${vp}.secret.secretName`));
  });
  const names = new Set<string>();
  const containers: Any[] = spec.containers ?? [];
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  const checkList = (list: Any[] | undefined, field: string) =>
    (list ?? []).forEach((c, i) => {
      const cp = `${path}.${field}[${i}]`;
      errs.push(...validateContainer(c, cp, volumes, requireImage));
      if (c.name) {
        if (names.has(c.name)) errs.push(duplicate(`${cp}.name`, c.name));
        names.add(c.name);
      }
    });
  checkList(spec.initContainers, 'initContainers');
  checkList(containers, 'containers');
  (spec.ephemeralContainers ?? []).forEach((c: Any, i: number) =>
    errs.push(...validateContainer(c, `${path}.ephemeralContainers[${i}]`, volumes, requireImage)),
  );
  errs.push(...validateEphemeralContainers(spec, path));
  if (spec.restartPolicy && !RESTART_POLICIES.includes(spec.restartPolicy))
    errs.push(notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy && !DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig?.nameservers?.length)
    errs.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  if (typeof spec.terminationGracePeriodSeconds === 'number' && spec.terminationGracePeriodSeconds < 0)
    errs.push(invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds >= 1 && spec.activeDeadlineSeconds <= 2147483647))
    errs.push(invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  for (const [k, v] of [
    ['nodeName', spec.nodeName],
    ['hostname', spec.hostname],
    ['subdomain', spec.subdomain],
  ] as const) {
    if (!v) continue;
    const check = k === 'nodeName' ? dns1123Subdomain : dns1123Label;
    for (const m of check(v)) errs.push(invalid(`${path}.${k}`, v, m));
  }
  if (spec.serviceAccountName)
    for (const m of dns1123Subdomain(spec.serviceAccountName)) errs.push(invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  return errs;
}

const MUTABLE_MSG =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Pod spec is immutable except container images, activeDeadlineSeconds, added tolerations, scheduling gates removal. */
export function validatePodUpdate(next: Any, old: Any): FieldError[] {
  const a = structuredClone(next.spec ?? {});
  const b = structuredClone(old.spec ?? {});
  for (const list of ['containers', 'initContainers'] as const) {
    (a[list] ?? []).forEach((c: Any, i: number) => {
      if (b[list]?.[i]) c.image = b[list][i].image;
    });
  }
  const errs: FieldError[] = [];
  (next.spec?.containers ?? []).forEach((c: Any, i: number) => {
    if (!c.image) errs.push(required(`spec.containers[${i}].image`));
  });
  if (old.spec?.activeDeadlineSeconds !== undefined && next.spec?.activeDeadlineSeconds === undefined)
    errs.push(invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  a.activeDeadlineSeconds = b.activeDeadlineSeconds;
  const oldTols: Any[] = b.tolerations ?? [];
  const newTols: Any[] = a.tolerations ?? [];
  // compared canonically (a client may order keys differently) and apart from tolerationSeconds,
  // which an update may change, as upstream's ValidateTolerationsInPodUpdate allows
  const tolKey = (t: Any) => JSON.stringify(canon({ ...t, tolerationSeconds: undefined }));
  const newKeys = new Set(newTols.map(tolKey));
  const tolsOk = oldTols.every((t) => newKeys.has(tolKey(t)));
  if (!tolsOk) errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  a.tolerations = b.tolerations;
  if ((a.schedulingGates ?? []).length <= (b.schedulingGates ?? []).length) a.schedulingGates = b.schedulingGates;
  // the binding subresource is the only way to set nodeName on an existing pod
  if (JSON.stringify(canon(a)) !== JSON.stringify(canon(b))) errs.push(forbidden('spec', MUTABLE_MSG));
  return errs;
}

function canon(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, canon(o[k])]),
    );
  }
  return v;
}
export { canon };
