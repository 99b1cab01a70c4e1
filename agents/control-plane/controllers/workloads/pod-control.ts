// Creating and deleting a controller's pods (upstream PodControl): expectations recorded before
// the requests and settled for the ones that fail, slow-start batches for creations, and the
// SuccessfulCreate/SuccessfulDelete/FailedCreate events `kubectl describe` shows on the owner.
import type { Logger } from '../../../api/log.ts';
import type { Obj } from '../../apiserver/strategies/types.ts';
import { keyOf } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { recordEvent } from '../../client/events.ts';
import type { Expectations } from './expectations.ts';
import { createInBatches, yieldToIO } from './pod-template.ts';
import type { TokenBucket } from '../../../api/token-bucket.ts';
import { podPace } from './rate-rules.ts';

export interface EventSource {
  /** the owner with kind and apiVersion set, as events name it */
  owner: Obj;
  component: string;
}

/** A write dropped because its controller stopped while it waited for its turn. */
export class ControllerStopped extends Error {
  constructor() {
    super('controller stopped');
  }
}

export class PodControl {
  constructor(
    private readonly client: LoopbackClient,
    private readonly expectations: Expectations,
    private readonly log: Logger,
    private readonly bucket: TokenBucket = podPace(),
    /** false once the controller stopped (lost its lease): writes still waiting for their turn are dropped */
    private readonly live: () => boolean = () => true,
  ) {}

  /**
   * Waits for this controller's turn to write: its token, and in any case a turn of the event
   * loop, which the API server shares (an in-process write may never wait on a socket).
   */
  private async paced(): Promise<void> {
    const ms = this.bucket.reserve();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms).unref());
    else await yieldToIO();
    if (!this.live()) throw new ControllerStopped();
  }

  private event(src: EventSource, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void recordEvent(this.client, src.owner, type, reason, message, src.component);
  }

  /**
   * Creates the pods (in slow-start batches) for the owner `key`; returns the first error. With
   * `exists: 'skip'`, an AlreadyExists (a pod of that fixed name still terminating) is no error.
   */
  async create(src: EventSource, key: string, pods: Obj[], o: { message?: (name: string) => string; exists?: 'skip' } = {}): Promise<unknown> {
    if (!pods.length) return undefined;
    const ns = src.owner.metadata.namespace!;
    this.expectations.expect(key, pods.length);
    const r = await createInBatches(pods.length, async (i) => {
      try {
        await this.paced();
        const made = await this.client.create(`/api/v1/namespaces/${ns}/pods`, pods[i]);
        this.event(src, 'Normal', 'SuccessfulCreate', o.message?.(made.metadata.name!) ?? `Created pod: ${made.metadata.name}`);
      } catch (e) {
        this.expectations.creationObserved(key);
        if (o.exists === 'skip' && (e as { code?: number }).code === 409) return;
        throw e;
      }
    });
    for (let i = 0; i < r.skipped; i++) this.expectations.creationObserved(key);
    // a stopped controller (no longer the leader) writes nothing more: not the failure, not a status
    if (r.error instanceof ControllerStopped) throw r.error;
    if (r.error) {
      this.event(src, 'Warning', 'FailedCreate', `Error creating: ${(r.error as Error).message}`);
      this.log.warn({ owner: key, err: r.error }, 'pod creation failed');
    }
    return r.error;
  }

  /** Deletes the pods (gracefully) for the owner `key`; returns the first error. */
  async delete(src: EventSource, key: string, pods: Obj[], o: { message?: (name: string) => string } = {}): Promise<unknown> {
    if (!pods.length) return undefined;
    this.expectations.expect(key, 0, pods.map(keyOf));
    const results = await Promise.allSettled(
      pods.map(async (p) => {
        try {
          await this.paced();
          await this.client.delete(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}`);
          this.event(src, 'Normal', 'SuccessfulDelete', o.message?.(p.metadata.name!) ?? `Deleted pod: ${p.metadata.name}`);
        } catch (e) {
          this.expectations.deletionObserved(key, keyOf(p));
          if ((e as { code?: number }).code !== 404) throw e;
        }
      }),
    );
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed?.reason instanceof ControllerStopped) throw failed.reason;
    if (failed) this.log.warn({ owner: key, err: failed.reason }, 'pod deletion failed');
    return failed?.reason;
  }
}
