// The ValidatingAdmissionPolicy status controller, as upstream's validatingadmissionpolicy-status-
// controller in kube-controller-manager: each policy whose metadata.generation is newer than its
// status.observedGeneration is type-checked (admission/policy-typecheck.ts) and its status gets
// observedGeneration and typeChecking.expressionWarnings (typeChecking {} when none: a non-empty
// typeChecking is how clients know the check ran). Other status fields (conditions) are kept.
import type { Logger } from '../../api/log.ts';
import { typeCheckPolicy } from '../apiserver/admission/policy-typecheck.ts';
import type { ValidatingAdmissionPolicy } from '../apiserver/admission/policy-types.ts';
import type { Obj } from '../apiserver/strategies/types.ts';
import type { LoopbackClient } from '../client/loopback.ts';
import { type CacheSource, cacheFor, type SharedInformers } from './workloads/shared-informers.ts';

const PATH = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
/** bounds one drain: a policy rewritten faster than this is picked up by the next event */
const MAX_PASSES = 100;

/** Pure: the status patch a policy needs, or undefined when its status is current. */
export function statusPatch(p: ValidatingAdmissionPolicy & { status?: { observedGeneration?: number } }): object | undefined {
  const generation = p.metadata.generation ?? 1;
  if (generation <= (p.status?.observedGeneration ?? 0)) return undefined;
  const warnings = typeCheckPolicy(p);
  return { status: { observedGeneration: generation, typeChecking: { expressionWarnings: warnings.length ? warnings : null } } };
}

export class AdmissionPolicyStatusController {
  private readonly policies: CacheSource;
  private readonly pending = new Set<string>();
  private running = false;

  constructor(
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    informers?: SharedInformers,
  ) {
    const kick = (o: Obj) => this.kick(o.metadata.name!);
    this.policies = cacheFor(client, log, PATH, { add: kick, update: kick }, informers);
  }

  async start(): Promise<void> {
    this.policies.start();
    await this.policies.synced;
  }

  stop(): void {
    this.policies.stop();
  }

  private kick(name: string): void {
    this.pending.add(name);
    if (!this.running) void this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      for (let pass = 0; this.pending.size && pass < MAX_PASSES; pass++) {
        const [name] = this.pending;
        this.pending.delete(name);
        await this.sync(name);
      }
    } finally {
      this.running = false;
    }
  }

  private async sync(name: string): Promise<void> {
    const p = [...this.policies.cache.values()].find((o) => o.metadata.name === name);
    const patch = p && statusPatch(p as unknown as ValidatingAdmissionPolicy);
    if (!patch) return;
    try {
      await this.client.patch(`${PATH}/${name}/status`, patch);
    } catch (e) {
      // gone meanwhile: nothing to report on; anything else is retried by the next change
      if ((e as { code?: number }).code !== 404) this.log.warn({ err: e, policy: name }, 'writing the policy status failed');
    }
  }
}
