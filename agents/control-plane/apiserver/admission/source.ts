// The webhook configurations the dispatcher calls, kept from informers (as upstream's
// configuration managers), so that a write never lists them: each kind's webhooks in the order of
// their configurations' names, then their position in the configuration.
import type { Logger } from '../../../api/log.ts';
import { Informer } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { Webhook, WebhookConfiguration } from './types.ts';

const BASE = '/apis/admissionregistration.k8s.io/v1';

export interface WebhookSet {
  mutating: Webhook[];
  validating: Webhook[];
}

function ordered(inf: Informer | undefined): Webhook[] {
  if (!inf) return [];
  const configs = [...inf.cache.values()] as unknown as WebhookConfiguration[];
  configs.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  return configs.flatMap((c) => c.webhooks ?? []);
}

export class WebhookSource {
  private informers: { mutating: Informer; validating: Informer } | undefined;
  private current: WebhookSet = { mutating: [], validating: [] };

  /** Follows both kinds through `client`; resolves once both are listed. */
  async start(client: LoopbackClient, log: Logger): Promise<void> {
    const rebuild = () => {
      this.current = { mutating: ordered(this.informers?.mutating), validating: ordered(this.informers?.validating) };
    };
    const handlers = { add: rebuild, update: rebuild, delete: rebuild };
    this.informers = {
      mutating: new Informer(client, `${BASE}/mutatingwebhookconfigurations`, handlers, log),
      validating: new Informer(client, `${BASE}/validatingwebhookconfigurations`, handlers, log),
    };
    this.informers.mutating.start();
    this.informers.validating.start();
    await Promise.all([this.informers.mutating.synced, this.informers.validating.synced]);
    rebuild();
  }

  stop(): void {
    this.informers?.mutating.stop();
    this.informers?.validating.stop();
  }

  /** The webhooks now (a snapshot: a request sees one consistent set). */
  get webhooks(): WebhookSet {
    return this.current;
  }
}
