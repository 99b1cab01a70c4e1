// Makes a container's image present per imagePullPolicy (Always, IfNotPresent, Never), pulling
// through CRI with the pod's imagePullSecrets as auth, with per-pod-and-image back-off and the
// events users know: Pulling, Pulled ("already present on machine" / "Successfully pulled ..."),
// Failed, BackOff, ErrImageNeverPull. Errors carry the waiting reason the container shows.
import type { V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import { defaultPullPolicy } from '../../api/pod-defaults.ts';
import { Backoff } from '../pods/backoff.ts';
import type { EventRecorder } from '../pods/events.ts';
import type { ImageInfo, PodRuntime } from '../pods/runtime.ts';
import { rpcText } from '../pods/runtime-values.ts';
import { credentialsFor } from './pull-secrets.ts';

export class ImageError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly retryMs?: number,
  ) {
    super(message);
  }
}

/** Go's Duration text for a measured span: 512ms, 1.234s. */
export function goSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(Math.round(ms) / 1000).toString()}s`;
}

// a reference as docker parses it: optional host[:port]/, path components, optional :tag, optional @digest
const REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

export class ImageManager {
  private backoff = new Backoff();
  private inflight = new Map<string, Promise<{ ref: string; ms: number }>>();

  constructor(
    private rt: PodRuntime,
    private events: EventRecorder,
  ) {}

  /** The image's reference and user once it is present; throws ImageError otherwise. */
  async ensure(pod: V1Pod, c: V1Container, sandboxConfig: object, secrets: V1Secret[]): Promise<ImageInfo & { ref: string }> {
    const image = c.image ?? '';
    const ev = (type: 'Normal' | 'Warning', reason: string, msg: string) => this.events.pod(pod, c, type, reason, msg);
    if (!REFERENCE.test(image)) {
      const msg = `Failed to apply default image tag ${JSON.stringify(image)}: couldn't parse image name ${JSON.stringify(image)}: invalid reference format`;
      ev('Warning', 'InspectFailed', msg);
      throw new ImageError('InvalidImageName', msg);
    }
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image);
    const present = await this.rt.imageStatus(image);
    if (present && policy !== 'Always') {
      ev('Normal', 'Pulled', `Container image ${JSON.stringify(image)} already present on machine`);
      return { ...present, ref: present.id };
    }
    if (!present && policy === 'Never') {
      const msg = `Container image ${JSON.stringify(image)} is not present with pull policy of Never`;
      ev('Warning', 'ErrImageNeverPull', msg);
      throw new ImageError('ErrImageNeverPull', msg);
    }
    const key = `${pod.metadata!.uid}_${image}`;
    if (this.backoff.inBackoffSinceUpdate(key)) {
      const msg = `Back-off pulling image ${JSON.stringify(image)}`;
      ev('Normal', 'BackOff', msg);
      throw new ImageError('ImagePullBackOff', msg, this.backoff.remainingSinceUpdate(key));
    }
    ev('Normal', 'Pulling', `Pulling image ${JSON.stringify(image)}`);
    const began = Date.now();
    try {
      const r = await this.pull(image, secrets, sandboxConfig);
      this.backoff.reset(key);
      const info = (await this.rt.imageStatus(r.ref)) ?? (await this.rt.imageStatus(image));
      ev(
        'Normal',
        'Pulled',
        `Successfully pulled image ${JSON.stringify(image)} in ${goSpan(r.ms)} (${goSpan(Date.now() - began)} including waiting). Image size: ${info?.size ?? 0} bytes.`,
      );
      return { ...(info ?? { id: r.ref, size: 0, pinned: false, tags: [], digests: [] }), ref: r.ref };
    } catch (err) {
      const text = rpcText(err);
      ev('Warning', 'Failed', `Failed to pull image ${JSON.stringify(image)}: ${text}`);
      this.backoff.next(key);
      throw new ImageError('ErrImagePull', text, this.backoff.remainingSinceUpdate(key));
    }
  }

  /** One pull per image at a time; each matching credential is tried in turn, then none. */
  private pull(image: string, secrets: V1Secret[], sandboxConfig: object): Promise<{ ref: string; ms: number }> {
    const running = this.inflight.get(image);
    if (running) return running;
    const p = (async () => {
      const began = Date.now();
      const creds = credentialsFor(image, secrets);
      let last: unknown;
      for (const auth of creds.length ? creds : [undefined]) {
        try {
          return { ref: await this.rt.pullImage(image, auth, sandboxConfig), ms: Date.now() - began };
        } catch (err) {
          last = err;
        }
      }
      throw last;
    })().finally(() => this.inflight.delete(image));
    this.inflight.set(image, p);
    return p;
  }

  forgetPod(uid: string): void {
    this.backoff.forget(`${uid}_`);
  }
}
