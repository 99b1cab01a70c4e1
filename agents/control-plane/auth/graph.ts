// The Node authorizer's view of the cluster: which pods are bound to which node and which
// secrets, configmaps, service accounts and claims those pods use. Kept in memory from the
// store's pod history (list, then watch; relist when history was compacted), as upstream keeps its
// graph from informers, so each authorization is a map lookup.
import type { Store } from '../storage/types.ts';
import { CompactedError } from '../storage/types.ts';

export type RefKind = 'secrets' | 'configmaps' | 'serviceaccounts' | 'persistentvolumeclaims';

interface PodLike {
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, any>;
}

/** "kind/namespace/name" */
export const refKey = (kind: string, ns: string, name: string) => `${kind}/${ns}/${name}`;

/** The objects a pod needs from the API to run (pure). */
export function podReferences(pod: PodLike): { kind: RefKind; name: string }[] {
  const spec = pod.spec ?? {};
  const out = new Map<string, { kind: RefKind; name: string }>();
  const add = (kind: RefKind, name: unknown) => {
    if (typeof name === 'string' && name) out.set(`${kind}/${name}`, { kind, name });
  };
  add('serviceaccounts', spec.serviceAccountName || 'default');
  for (const s of spec.imagePullSecrets ?? []) add('secrets', s?.name);
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const c of containers) {
    for (const e of c?.env ?? []) {
      add('secrets', e?.valueFrom?.secretKeyRef?.name);
      add('configmaps', e?.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c?.envFrom ?? []) {
      add('secrets', e?.secretRef?.name);
      add('configmaps', e?.configMapRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add('secrets', v?.secret?.secretName);
    add('configmaps', v?.configMap?.name);
    add('persistentvolumeclaims', v?.persistentVolumeClaim?.claimName);
    if (v?.ephemeral) add('persistentvolumeclaims', `${pod.metadata?.name}-${v.name}`);
    for (const src of v?.projected?.sources ?? []) {
      add('secrets', src?.secret?.name);
      add('configmaps', src?.configMap?.name);
    }
    // volume plugins that carry credentials
    for (const holder of Object.values(v ?? {}) as Record<string, any>[]) {
      add('secrets', holder?.secretRef?.name);
      add('secrets', holder?.nodePublishSecretRef?.name);
    }
  }
  return [...out.values()];
}

type Listener = (ref: string, visible: boolean) => void;

export class NodeGraph {
  /** pod ns/name -> its node and the refs it contributes */
  private readonly pods = new Map<string, { node: string; refs: string[] }>();
  /** node -> ref -> number of its pods using it */
  private readonly refs = new Map<string, Map<string, number>>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private revision = 0;
  private stopped = false;
  private watch: { close(): void } | undefined;

  constructor(
    private readonly store: Store,
    private readonly podPrefix: string,
  ) {}

  /** Resolves after the first full list; keeps following the store until stop(). */
  async start(): Promise<void> {
    await this.relist();
    void this.follow();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  private async relist(): Promise<void> {
    const l = await this.store.list(this.podPrefix);
    for (const key of [...this.pods.keys()]) this.setPod(key, undefined);
    for (const kv of l.items) this.setPod(this.podKey(kv.key), JSON.parse(kv.value) as PodLike);
    this.advance(l.revision);
  }

  private async follow(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const w = this.store.watch(this.podPrefix, this.revision);
        this.watch = w;
        for await (const ev of w) {
          this.setPod(this.podKey(ev.kv.key), ev.type === 'delete' ? undefined : (JSON.parse(ev.kv.value) as PodLike));
          this.advance(ev.revision);
        }
      } catch (e) {
        if (!(e instanceof CompactedError) && attempt > 0) await new Promise((r) => setTimeout(r, Math.min(5000, 100 * attempt)));
      }
      if (this.stopped) return;
      // the watch ended or its history is gone: start over from a fresh list
      await this.relist().catch(() => undefined);
    }
  }

  private podKey(storageKey: string): string {
    return storageKey.slice(this.podPrefix.length);
  }

  private advance(rev: number): void {
    if (rev > this.revision) this.revision = rev;
  }

  private setPod(key: string, pod: PodLike | undefined): void {
    const before = this.pods.get(key);
    const node = pod?.spec?.nodeName as string | undefined;
    const ns = pod?.metadata?.namespace ?? key.split('/')[0];
    const after = pod && node ? { node, refs: podReferences(pod).map((r) => refKey(r.kind, ns, r.name)) } : undefined;
    if (after) this.pods.set(key, after);
    else this.pods.delete(key);
    if (before) for (const r of before.refs) this.bump(before.node, r, -1);
    if (after) for (const r of after.refs) this.bump(after.node, r, +1);
  }

  private bump(node: string, ref: string, by: number): void {
    let m = this.refs.get(node);
    if (!m) this.refs.set(node, (m = new Map()));
    const was = m.get(ref) ?? 0;
    const now = was + by;
    if (now > 0) m.set(ref, now);
    else m.delete(ref);
    if (was > 0 !== now > 0) for (const l of this.listeners.get(node) ?? []) l(ref, now > 0);
  }

  /** The node a pod is bound to, if the graph knows the pod. */
  nodeOfPod(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.node;
  }

  /** Whether a pod bound to node uses this object. */
  related(node: string, kind: RefKind, namespace: string, name: string): boolean {
    return (this.refs.get(node)?.get(refKey(kind, namespace, name)) ?? 0) > 0;
  }

  /** Calls fn when an object starts or stops being used by node's pods; returns the unsubscribe. */
  subscribe(node: string, fn: Listener): () => void {
    let s = this.listeners.get(node);
    if (!s) this.listeners.set(node, (s = new Set()));
    s.add(fn);
    return () => {
      s!.delete(fn);
      if (!s!.size) this.listeners.delete(node);
    };
  }
}
