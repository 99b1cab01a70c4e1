// The webhook configurations the dispatcher calls, kept from informers (as upstream's
// configuration managers), so that a write never lists them: each kind's webhooks in the order of
// their configurations' names, then their position in the configuration; and the
// ValidatingAdmissionPolicies paired with their bindings, in binding-name order.
import type { Logger } from '../../../api/log.ts';
import { Informer } from '../../client/informer.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import type { PolicyBinding } from './policy.ts';
import type { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from './policy-types.ts';
import type { Webhook, WebhookConfiguration } from './types.ts';

const BASE = '/apis/admissionregistration.k8s.io/v1';

export interface WebhookSet {
  mutating: Webhook[];
  validating: Webhook[];
  /** bound ValidatingAdmissionPolicies */
  policies: PolicyBinding[];
}

function paired(policies: Informer | undefined, bindings: Informer | undefined): PolicyBinding[] {
  if (!policies || !bindings) return [];
  const byName = new Map(
    [...policies.cache.values()].map((p) => [(p as unknown as ValidatingAdmissionPolicy).metadata.name, p as unknown as ValidatingAdmissionPolicy]),
  );
  const bs = [...bindings.cache.values()] as unknown as ValidatingAdmissionPolicyBinding[];
  bs.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  return bs.flatMap((binding) => {
    const policy = byName.get(binding.spec?.policyName);
    return policy ? [{ policy, binding }] : [];
  });
}

function ordered(inf: Informer | undefined): Webhook[] {
  if (!inf) return [];
  const configs = [...inf.cache.values()] as unknown as WebhookConfiguration[];
  configs.sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  return configs.flatMap((c) => c.webhooks ?? []);
}

export class WebhookSource {
  private informers: { mutating: Informer; validating: Informer; policies: Informer; bindings: Informer } | undefined;
  private current: WebhookSet = { mutating: [], validating: [], policies: [] };

  /** Follows both kinds through `client`; resolves once both are listed. */
  async start(client: LoopbackClient, log: Logger): Promise<void> {
    const rebuild = () => {
      const i = this.informers;
      this.current = { mutating: ordered(i?.mutating), validating: ordered(i?.validating), policies: paired(i?.policies, i?.bindings) };
    };
    const handlers = { add: rebuild, update: rebuild, delete: rebuild };
    this.informers = {
      mutating: new Informer(client, `${BASE}/mutatingwebhookconfigurations`, handlers, log),
      validating: new Informer(client, `${BASE}/validatingwebhookconfigurations`, handlers, log),
      policies: new Informer(client, `${BASE}/validatingadmissionpolicies`, handlers, log),
      bindings: new Informer(client, `${BASE}/validatingadmissionpolicybindings`, handlers, log),
    };
    const all = Object.values(this.informers);
    for (const inf of all) inf.start();
    await Promise.all(all.map((inf) => inf.synced));
    rebuild();
  }

  stop(): void {
    for (const inf of Object.values(this.informers ?? {})) inf.stop();
  }

  /** The webhooks now (a snapshot: a request sees one consistent set). */
  get webhooks(): WebhookSet {
    return this.current;
  }
}
