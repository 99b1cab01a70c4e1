// What the sig-apps conformance mirrors (test/e2e/apps-conformance-*.test.ts) share: the API calls
// upstream makes through client-go that kubectl has no verb for (a subresource GET, a typed patch of
// /status, DeleteCollection, PUT of /scale), made with kubectl's --raw and --subresource so that the
// real kubectl v1.35 still speaks to the server, and upstream's e2e waits (deployment complete,
// replica set ready, pods running) as polls whose timeout says what the object looked like last.
import { type Ctx, type Kube, until } from '../../conformance/fixture.ts';

export type Obj = Record<string, any>;

/** The namespaced path of a resource's collection: `/apis/apps/v1/namespaces/ns/deployments`. */
export const collectionPath = (groupVersion: string, ns: string, resource: string): string =>
  `${groupVersion === 'v1' ? '/api' : '/apis'}/${groupVersion}/namespaces/${ns}/${resource}`;

export const getRaw = (k: Kube, path: string): Obj => JSON.parse(k.ok(['get', '--raw', path]));

/** PUT of a whole object to a path (an update, an UpdateStatus, a scale update). */
export const putRaw = (k: Kube, path: string, body: Obj): Obj => JSON.parse(k.ok(['replace', '--raw', path, '-f', '-'], JSON.stringify(body)));

/** DeleteCollection with a label selector, as client-go's DeleteCollection sends it. */
export const deleteCollection = (k: Kube, path: string, labelSelector: string): Obj =>
  JSON.parse(k.ok(['delete', '--raw', `${path}?labelSelector=${encodeURIComponent(labelSelector)}`]));

/** A typed patch of an object or one of its subresources; returns what the server answered. */
export function patch(k: Kube, kind: string, name: string, type: 'merge' | 'strategic' | 'json', body: unknown, subresource?: 'status' | 'scale'): Obj {
  const args = ['patch', kind, name, `--type=${type}`, '-p', JSON.stringify(body), '-o', 'json'];
  if (subresource) args.push(`--subresource=${subresource}`);
  return JSON.parse(k.ok(args));
}

/** Reads an object, changes it and PUTs it back (to `sub` when given), retrying on a conflict as retry.RetryOnConflict does. */
export async function updateWithRetries(k: Kube, path: string, change: (o: Obj) => void, sub = ''): Promise<Obj> {
  for (let i = 0; ; i++) {
    const o = getRaw(k, path);
    change(o);
    const r = k.run(['replace', '--raw', `${path}${sub}`, '-f', '-'], JSON.stringify(o));
    if (r.code === 0) return JSON.parse(r.stdout);
    if (!/Conflict|the object has been modified/.test(r.stderr) || i >= 5) throw new Error(`update of ${path}${sub} failed: ${r.stderr.trim()}`);
  }
}

/** Polls an object until `ok` holds for it; the timeout names the last state seen. */
export async function waitObj(k: Kube, path: string, what: string, ok: (o: Obj) => boolean, timeoutMs = 120_000): Promise<Obj> {
  let last: Obj | undefined;
  try {
    return await until(
      what,
      () => {
        last = getRaw(k, path);
        return ok(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`);
  }
}

/** Until the path answers 404 NotFound. */
export const waitGone = (k: Kube, path: string, what: string, timeoutMs = 60_000) =>
  until(
    what,
    () => {
      const r = k.run(['get', '--raw', path]);
      return r.code !== 0 && /NotFound|not found/.test(r.stderr);
    },
    timeoutMs,
  );

/** upstream's WaitForDeploymentComplete: the controller observed the spec and every replica is updated and available. */
export const deploymentComplete = (d: Obj): boolean => {
  const s = d.status ?? {};
  const want = d.spec.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= d.metadata.generation &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    !(s.unavailableReplicas > 0)
  );
};

export const isReady = (p: Obj): boolean =>
  !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');

/** Pods of a label selector in the test's namespace (not those being deleted unless `all`). */
export const podsOf = (k: Kube, selector: string, all = false): Obj[] =>
  (k.json<Obj>(['get', 'pods', '-l', selector]).items as Obj[]).filter((p) => all || !p.metadata.deletionTimestamp);

/** upstream's VerifyPodsRunning: `n` pods of the selector, all Running and Ready. */
export const waitPodsReady = (k: Kube, selector: string, n: number, timeoutMs = 120_000) =>
  until(
    `${n} Ready pods of ${selector}`,
    () => {
      const ps = podsOf(k, selector);
      return ps.length === n && ps.every(isReady) ? ps : undefined;
    },
    timeoutMs,
  );

export const owners = (o: Obj): Obj[] => o.metadata.ownerReferences ?? [];
export const controllerUid = (o: Obj): string | undefined => owners(o).find((r) => r.controller)?.uid;

/** upstream's "webserver" (httpd) container: the test image as it is, busybox httpd on 8080. */
export const webserver = (c: Ctx, name = 'httpd'): Obj => ({ name, image: c.env.image });
/** upstream's "agnhost" container: the test image with httpd given as an explicit command, so its template differs from webserver's. */
export const agnhost = (c: Ctx, name = 'agnhost'): Obj => ({ name, image: c.env.image, command: ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'] });

/** upstream's newRS: a ReplicaSet labelled with its pod labels, selecting them, one container. */
export function newRS(name: string, replicas: number, podLabels: Record<string, string>, container: Obj, annotations?: Record<string, string>): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, labels: podLabels, ...(annotations ? { annotations } : {}) },
    spec: {
      replicas,
      selector: { matchLabels: podLabels },
      template: { metadata: { labels: podLabels }, spec: { terminationGracePeriodSeconds: 1, containers: [container] } },
    },
  };
}
