// Object builders for the suite's pods and Services: plain values (kubectl takes JSON), so a test
// states only what its upstream counterpart varies and the rest stays the same everywhere.

export interface PodOpts {
  labels?: Record<string, string>;
  node?: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  /** readiness by `test -e FILE`: the pod is Ready only while FILE exists */
  readyFile?: string;
  hostNetwork?: boolean;
  restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  container?: string;
  annotations?: Record<string, string>;
  env?: { name: string; value: string }[];
}

/** A pod of the test image: by default busybox httpd on 8080 answering its hostname at /. */
export function pod(name: string, image: string, o: PodOpts = {}): any {
  const c: any = { name: o.container ?? 'c', image, ports: o.ports ?? [{ name: 'http', containerPort: 8080 }] };
  if (o.command) c.command = o.command;
  if (o.args) c.args = o.args;
  if (o.env) c.env = o.env;
  if (o.readyFile) c.readinessProbe = { exec: { command: ['test', '-e', o.readyFile] }, periodSeconds: 1, failureThreshold: 1 };
  const spec: any = { containers: [c], terminationGracePeriodSeconds: 1 };
  if (o.node) spec.nodeSelector = { 'kubernetes.io/hostname': o.node };
  if (o.hostNetwork) spec.hostNetwork = true;
  if (o.restartPolicy) spec.restartPolicy = o.restartPolicy;
  const metadata: any = { name, labels: o.labels ?? {} };
  if (o.annotations) metadata.annotations = o.annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** A pod that only sleeps: a client that serves nothing (hostNetwork clients must not bind 8080). */
export const sleeper = (name: string, image: string, o: PodOpts = {}): any =>
  pod(name, image, { ...o, command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], ports: [] });

export interface ServiceOpts {
  selector?: Record<string, string>;
  ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string; nodePort?: number }[];
  type?: 'ClusterIP' | 'NodePort' | 'ExternalName';
  sessionAffinity?: 'None' | 'ClientIP';
  publishNotReadyAddresses?: boolean;
  externalName?: string;
  labels?: Record<string, string>;
}

export function service(name: string, o: ServiceOpts = {}): any {
  const spec: any = { type: o.type ?? 'ClusterIP' };
  if (o.type !== 'ExternalName') spec.ports = o.ports ?? [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }];
  if (o.selector) spec.selector = o.selector;
  if (o.sessionAffinity) spec.sessionAffinity = o.sessionAffinity;
  if (o.publishNotReadyAddresses) spec.publishNotReadyAddresses = true;
  if (o.externalName) spec.externalName = o.externalName;
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: o.labels ?? {} }, spec };
}

export const configMap = (name: string, data: Record<string, string>, labels: Record<string, string> = {}): any => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

/** A pod template (metadata + spec) for controllers. */
export const template = (image: string, labels: Record<string, string>, o: PodOpts = {}): any => ({
  metadata: { labels },
  spec: pod('x', image, { ...o, labels }).spec,
});

/** A ReplicationController of the test image (upstream's kubectl tests are written around RCs). */
export function replicationController(name: string, image: string, replicas: number, labels: Record<string, string>): any {
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name, labels },
    spec: { replicas, selector: labels, template: template(image, labels) },
  };
}

export function deployment(name: string, image: string, replicas: number, labels: Record<string, string>): any {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: template(image, labels) },
  };
}
